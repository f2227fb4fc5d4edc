/** A run's page: what it is, what it did (ops, a timeline, raw events), what it waits for, and the actions on it. */
import { isService, isTerminal, type MessageInfo, type OpInfo, type RunInspection } from "../../shared/index.ts";
import { html } from "hono/html";
import { Alert, Csrf, Json, Layout, Notice, runHref, Status, statusTag, Time, timeTag, Took, UI_BASE } from "../layout.tsx";
import { buildTimeline, humanDuration, type Timeline } from "../timeline.ts";

export interface RunForm {
  error?: string;
  notice?: string;
  signalName?: string;
  signalPayload?: string;
}

/** A long run's page draws only its latest ops and events (every one with `?all=1`): it is drawn on the daemon's thread. */
export const MAX_ROWS = 1_000;
const latest = <T,>(rows: T[], all: boolean): T[] => (all || rows.length <= MAX_ROWS ? rows : rows.slice(-MAX_ROWS));

const ROW = 22;
const LABEL_WIDTH = 190;
const WIDTH = 1000;

export function TimelineChart(props: { timeline: Timeline }) {
  const { start, end, rows } = props.timeline;
  if (rows.length === 0) return <p class="muted">No ops yet.</p>;
  const span = end - start;
  // A tenth of a unit is finer than a pixel; more digits only make the page longer.
  const x = (at: number) => Math.round((LABEL_WIDTH + ((at - start) / span) * (WIDTH - LABEL_WIDTH - 10)) * 10) / 10;
  const height = rows.length * ROW + 24;
  // One row per op, as a template rather than JSX: a run of a thousand ops renders 2–3 times sooner.
  const drawn = rows.map((row, i) => {
    const y = i * ROW + 4;
    const spans = row.spans.map(
      (s) =>
        html`<rect class="${s.kind}${s.failed ? " failed" : ""}${s.open ? " open" : ""}" x="${x(s.start)}" y="${y + 3}" width="${Math.max(2, Math.round((x(s.end) - x(s.start)) * 10) / 10)}" height="${ROW - 8}" rx="2"><title>${s.label}: ${humanDuration(s.end - s.start)}${s.open ? " so far" : ""}</title></rect>`,
    );
    const failures = row.failures.map((at) => html`<line class="failure" x1="${x(at)}" x2="${x(at)}" y1="${y + 1}" y2="${y + ROW - 3}"></line>`);
    return html`<g data-op="${row.opKey}"><title>${row.kind} ${row.name}: ${row.status}${row.attempts > 1 ? `, ${row.attempts} attempts` : ""}</title><text x="4" y="${y + 13}">${`${row.kind} ${row.name}`.slice(0, 30)}</text>${spans}${failures}</g>`;
  });
  return (
    <svg class="timeline" viewBox={`0 0 ${WIDTH} ${height}`} role="img" aria-label={`Timeline of ${rows.length} ops over ${humanDuration(span)}`}>
      <line class="axis" x1={LABEL_WIDTH} y1={height - 18} x2={WIDTH - 10} y2={height - 18} />
      <text x={LABEL_WIDTH} y={height - 4}>0</text>
      <text x={WIDTH - 10} y={height - 4} text-anchor="end">{humanDuration(span)}</text>
      {drawn}
    </svg>
  );
}

/** How long each op took on the time line (its spans added up), by op key. */
function opDurations(timeline: Timeline): Map<string, string> {
  const took = new Map<string, string>();
  for (const row of timeline.rows) {
    if (row.spans.length === 0) continue;
    const total = row.spans.reduce((sum, s) => sum + (s.end - s.start), 0);
    took.set(row.opKey, `${humanDuration(total)}${row.spans.some((s) => s.open) ? " so far" : ""}`);
  }
  return took;
}

/** What the dashboard adds to an open op's own explanation (which names the CLI command). */
const formHint = (op: OpInfo): string | null => (op.kind === "signal" && op.status === "waiting" ? `Or send "${op.name}" with the form below.` : null);

const MessageTable = (props: { messages: MessageInfo[]; label: string }) =>
  props.messages.length === 0 ? (
    <p class="muted">None.</p>
  ) : (
    <table aria-label={props.label}>
      <thead><tr><th>#</th><th>Kind</th><th>Handler</th><th>Status</th><th>Payload</th><th>Reply or error</th><th>At</th></tr></thead>
      <tbody>
        {props.messages.map((m) => (
          <tr>
            <td>{m.id}</td><td>{m.kind}</td><td>{m.name}</td><td><Status status={m.status} /></td>
            <td class="mono">{JSON.stringify(m.payload) ?? "—"}</td>
            <td class="mono">{m.error ? m.error.message : JSON.stringify(m.reply) ?? "—"}</td>
            <td><Time at={m.updatedAt} /></td>
          </tr>
        ))}
      </tbody>
    </table>
  );

/** The part of the page that live updates replace. */
export function RunDetails(props: { inspection: RunInspection; now: number; all: boolean }) {
  const { run, signals, children, relationships, queued, turns } = props.inspection;
  const timeline = buildTimeline(props.inspection, props.now);
  const took = opDurations(timeline);
  const ops = latest(props.inspection.ops, props.all);
  const events = latest(props.inspection.events, props.all);
  const shortened = ops.length < props.inspection.ops.length || events.length < props.inspection.events.length;
  const open = props.inspection.ops.filter((op) => op.waitingFor !== undefined || op.status === "waiting" || op.status === "retry_wait");
  return (
    <div>
      <div class="card grid">
        <span class="muted">Status</span><span><Status status={run.status} /></span>
        <span class="muted">Run</span><span class="mono">{run.id}</span>
        <span class="muted">Kind</span><span>{run.kind}</span>
        {run.parentId ? <><span class="muted">Parent</span><a class="mono" href={runHref(run.parentId)}>{run.parentId}</a></> : null}
        {run.key !== undefined ? <><span class="muted">Key</span><span class="mono">{run.key}</span></> : null}
        <span class="muted">Created</span><Time at={run.createdAt} />
        <span class="muted">Finished</span><Time at={run.finishedAt} />
        <span class="muted">Took</span><Took from={run.createdAt} to={run.finishedAt} />
      </div>
      <div class="cols">
        <section><h2>Input</h2><Json value={run.input} /></section>
        <section>
          {run.error ? (
            <><h2>Error</h2><pre class="error">{`${run.error.name}: ${run.error.message}${run.error.code ? ` (${run.error.code})` : ""}`}</pre></>
          ) : isService(run) ? (
            <><h2>State</h2><Json value={run.state} /></>
          ) : (
            <><h2>Output</h2><Json value={run.output} /></>
          )}
        </section>
      </div>
      {open.length > 0 ? (
        <section>
          <h2>Waiting for</h2>
          <ul aria-label="Waits">
            {open.map((op) => (
              <li>
                <strong>{op.kind} {op.name}</strong>: {op.waitingFor ?? op.status}
                {formHint(op) ? <div class="muted">{formHint(op)}</div> : null}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {shortened ? (
        <p class="notice">
          This run has {props.inspection.ops.length} ops and {props.inspection.events.length} events: the latest {MAX_ROWS} of each are shown.{" "}
          <a href={`${runHref(run.id)}?all=1`}>Show all of them</a> (a long page).
        </p>
      ) : null}
      <h2>Timeline</h2>
      <TimelineChart timeline={{ ...timeline, rows: latest(timeline.rows, props.all) }} />
      <h2>Ops ({props.inspection.ops.length})</h2>
      <table aria-label="Ops">
        <thead><tr><th>#</th><th>Kind</th><th>Name</th><th>Status</th><th>Attempts</th><th>Took</th><th>Result or error</th></tr></thead>
        <tbody>
          {ops.map(
            (op) =>
              html`<tr data-op="${op.opKey}"><td>${op.seq}</td><td>${op.kind}</td><td>${op.name}</td><td>${statusTag(op.status)}</td><td>${op.attempt}</td><td>${took.get(op.opKey) ?? "—"}</td><td class="mono">${op.error ? op.error.message : JSON.stringify(op.result)?.slice(0, 200) ?? "—"}</td></tr>`,
          )}
        </tbody>
      </table>
      {children.length > 0 ? (
        <section>
          <h2>Children ({children.length})</h2>
          <ul>{children.map((c) => <li><a class="mono" href={runHref(c.id)}>{c.id}</a> {c.name} <Status status={c.status} /></li>)}</ul>
        </section>
      ) : null}
      {relationships.length > 0 ? (
        <section>
          <h2>Relationships</h2>
          <ul>{relationships.map((r) => <li>{r.kind} <a class="mono" href={runHref(r.targetId)}>{r.targetId}</a> <span class="muted">({r.propagate})</span></li>)}</ul>
        </section>
      ) : null}
      {isService(run) ? (
        <>
          <h2>Inbox ({queued.length})</h2>
          <MessageTable messages={queued} label="Inbox" />
          <h2>Recent turns ({turns.length})</h2>
          <MessageTable messages={turns.slice(-20).reverse()} label="Recent turns" />
        </>
      ) : null}
      {signals.length > 0 ? (
        <section>
          <h2>Signals</h2>
          <table aria-label="Signals">
            <thead><tr><th>Name</th><th>Status</th><th>Payload</th><th>At</th></tr></thead>
            <tbody>{signals.map((s) => <tr><td>{s.name}</td><td><Status status={s.status} /></td><td class="mono">{JSON.stringify(s.payload) ?? "—"}</td><td><Time at={s.createdAt} /></td></tr>)}</tbody>
          </table>
        </section>
      ) : null}
      <details id="raw-events">
        <summary>Raw events ({props.inspection.events.length})</summary>
        <table aria-label="Events">
          <thead><tr><th>#</th><th>Type</th><th>At</th><th>Body</th></tr></thead>
          <tbody>
            {events.map(
              ({ seq, type, at, ...body }) =>
                html`<tr><td>${seq}</td><td>${type}</td><td>${timeTag(at)}</td><td class="mono">${Object.keys(body).length > 0 ? JSON.stringify(body) : ""}</td></tr>`,
            )}
          </tbody>
        </table>
      </details>
    </div>
  );
}

export function RunPage(props: { inspection: RunInspection; now: number; csrf: string; form: RunForm; liveUrl: string; all: boolean }) {
  const { run, ops } = props.inspection;
  const base = runHref(run.id);
  const waitingSignal = ops.find((op) => op.kind === "signal" && op.status === "waiting")?.name;
  const ended = isTerminal(run.status);
  return (
    <Layout title={`${run.name} ${run.id}`} live={props.liveUrl}>
      <p class="muted"><a href={`${UI_BASE}/runs`}>Runs</a> / {run.kind}</p>
      <h1>{run.name} <span class="mono muted">{run.id}</span></h1>
      <Alert message={props.form.error} />
      <Notice message={props.form.notice} />
      <div data-live={props.liveUrl}>
        <RunDetails inspection={props.inspection} now={props.now} all={props.all} />
      </div>
      <h2>Actions</h2>
      <div class="actions">
        {ended ? <p class="muted">The run has ended: nothing to act on.</p> : null}
        {/* An instance takes mail through its handlers; a signal is offered only when its code waits for one. */}
        {!ended && (!isService(run) || waitingSignal !== undefined) ? (
          <form class="card" method="post" action={`${base}/signal`} aria-label="Send a signal">
            <Csrf token={props.csrf} />
            <label>Signal name<input name="name" required value={props.form.signalName ?? waitingSignal ?? ""} /></label>
            <label>Payload (JSON)<textarea name="payload">{props.form.signalPayload ?? ""}</textarea></label>
            <p><button type="submit">Send signal</button></p>
          </form>
        ) : null}
        {!ended && !isService(run) ? (
          <form class="card" method="post" action={`${base}/cancel`} aria-label="Cancel the run">
            <Csrf token={props.csrf} />
            <label>Reason<input name="reason" placeholder="cancelled from the dashboard" /></label>
            <p><button class="danger" type="submit">Cancel run</button></p>
          </form>
        ) : null}
        {!ended && isService(run) ? (
          <form class="card" method="post" action={`${base}/stop`} aria-label="Stop the instance">
            <Csrf token={props.csrf} />
            <label>Reason<input name="reason" placeholder="stopped from the dashboard" /></label>
            <p><button class="danger" type="submit">Stop instance</button></p>
          </form>
        ) : null}
      </div>
    </Layout>
  );
}
