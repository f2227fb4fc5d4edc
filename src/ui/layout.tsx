/** The page shell and the small pieces every page uses. */
import { html } from "hono/html";
import type { Child } from "hono/jsx";
import { humanDuration } from "./timeline.ts";

export const UI_BASE = "/ui";

export function Layout(props: { title: string; children: Child; live?: string }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · Vilano`}</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href={`${UI_BASE}/assets/app.css`} />
        <script src={`${UI_BASE}/assets/live.js`} defer></script>
      </head>
      <body>
        <header class="top">
          <span class="brand">Vilano</span>
          <nav aria-label="Sections">
            <a href={`${UI_BASE}/runs`}>Runs</a>
            <a href={`${UI_BASE}/services`}>Services</a>
            <a href={`${UI_BASE}/projects`}>Projects</a>
          </nav>
          {props.live ? <span class="muted" title="Live: updates arrive as they are committed">live<span class="live-dot"></span></span> : null}
        </header>
        <main>{props.children}</main>
      </body>
    </html>
  );
}

/** A status badge as a template, for rows repeated by the thousand; `Status` in JSX. */
export const statusTag = (status: string) => html`<span class="status s-${status}">${status}</span>`;
export const Status = (props: { status: string }) => statusTag(props.status);

export const Json = (props: { value: unknown }) => <pre>{props.value === undefined ? "—" : JSON.stringify(props.value, null, 2)}</pre>;

/** A moment in UTC to the second, machine-readable in `datetime`; a template, as `statusTag`. */
export function timeTag(at: number | undefined) {
  if (at === undefined) return html`<span class="muted">—</span>`;
  const iso = new Date(at).toISOString();
  return html`<time datetime="${iso}">${iso.replace("T", " ").replace(/\.\d+Z$/, "Z")}</time>`;
}
export const Time = (props: { at: number | undefined }) => timeTag(props.at);

export const Took = (props: { from: number; to: number | undefined }) => (props.to === undefined ? <span class="muted">—</span> : <span>{humanDuration(props.to - props.from)}</span>);

export const runHref = (id: string) => `${UI_BASE}/runs/${encodeURIComponent(id)}`;

export const Alert = (props: { message: string | undefined }) => (props.message ? <div class="alert" role="alert">{props.message}</div> : null);

export const Notice = (props: { message: string | undefined }) => (props.message ? <div class="notice" role="status">{props.message}</div> : null);

/** Every mutating form carries the session's CSRF token. */
export const Csrf = (props: { token: string }) => <input type="hidden" name="_csrf" value={props.token} />;
