/** The runs page: newest first, filtered by project, workflow and status, a page at a time. */
import type { ApiProject, ApiRun } from "../../api/index.ts";
import { LISTED_STATUSES, type AnyRunStatus } from "../../shared/index.ts";
import { Layout, runHref, Status, Time, Took, UI_BASE } from "../layout.tsx";

export interface RunsFilter {
  project?: string;
  workflow?: string;
  status?: AnyRunStatus;
  cursor?: string;
}

export const RUN_STATUSES: readonly AnyRunStatus[] = LISTED_STATUSES;

export function RunsTable(props: { runs: ApiRun[]; nextCursor: string | undefined; filter: RunsFilter }) {
  const { runs, nextCursor, filter } = props;
  /** This list's filters, from its newest page or from `cursor`. */
  const href = (cursor?: string) => {
    const query = new URLSearchParams();
    for (const key of ["project", "workflow", "status"] as const) if (filter[key]) query.set(key, filter[key]!);
    if (cursor) query.set("cursor", cursor);
    return `${UI_BASE}/runs?${query}`;
  };
  return (
    <div>
      <table aria-label="Runs">
        <thead>
          <tr><th>Run</th><th>Name</th><th>Kind</th><th>Status</th><th>Created</th><th>Took</th></tr>
        </thead>
        <tbody>
          {runs.length === 0 ? (
            <tr><td colspan={6} class="muted">No runs{filter.project || filter.workflow || filter.status ? " match these filters" : " yet"}.</td></tr>
          ) : (
            runs.map((run) => (
              <tr data-run={run.id}>
                <td class="mono"><a href={runHref(run.id)}>{run.id}</a></td>
                <td>{run.name}{run.key !== undefined ? <span class="muted"> [{run.key}]</span> : null}</td>
                <td>{run.kind}</td>
                <td><Status status={run.status} /></td>
                <td><Time at={run.createdAt} /></td>
                <td><Took from={run.createdAt} to={run.finishedAt} /></td>
              </tr>
            ))
          )}
        </tbody>
      </table>
      <p class="pager">
        {filter.cursor ? <a href={href()}>« Newest</a> : null}
        {nextCursor ? <> {" "}<a href={href(nextCursor)} rel="next">Older »</a></> : null}
      </p>
    </div>
  );
}

export function RunsPage(props: { runs: ApiRun[]; nextCursor: string | undefined; filter: RunsFilter; projects: ApiProject[]; liveUrl: string }) {
  const { filter, projects } = props;
  const workflows = [...new Set(projects.flatMap((p) => [...p.workflows, ...p.services]))].sort();
  return (
    <Layout title="Runs" live={props.liveUrl}>
      <h1>Runs</h1>
      <form class="filters" method="get" action={`${UI_BASE}/runs`}>
        <label>Project
          <select name="project">
            <option value="">any</option>
            {projects.map((p) => <option value={p.name} selected={filter.project === p.name}>{p.name}</option>)}
          </select>
        </label>
        <label>Workflow or service
          <input name="workflow" list="workflow-names" value={filter.workflow ?? ""} placeholder="any" />
          <datalist id="workflow-names">{workflows.map((w) => <option value={w} />)}</datalist>
        </label>
        <label>Status
          <select name="status">
            <option value="">any</option>
            {RUN_STATUSES.map((s) => <option value={s} selected={filter.status === s}>{s}</option>)}
          </select>
        </label>
        <button type="submit">Filter</button>
      </form>
      <div data-live={props.liveUrl}>
        <RunsTable runs={props.runs} nextCursor={props.nextCursor} filter={filter} />
      </div>
    </Layout>
  );
}
