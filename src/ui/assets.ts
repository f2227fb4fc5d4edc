/**
 * The dashboard's only assets, inside the executable: one style sheet and one small script (live
 * updates). Nothing is loaded from elsewhere, so the pages work offline; the Content-Security-Policy
 * allows this origin only.
 */
export const STYLE = `
:root { color-scheme: light dark; --bg: #fbfbfa; --fg: #1d1d1f; --muted: #6b6b70; --line: #e2e2e0; --card: #fff;
  --accent: #2f5fd0; --ok: #1f8a4c; --bad: #c0392b; --wait: #b7791f; --run: #2f5fd0; --stop: #6b6b70; }
@media (prefers-color-scheme: dark) { :root { --bg: #141416; --fg: #e8e8ea; --muted: #9a9aa2; --line: #2c2c31; --card: #1b1b1f; --accent: #7aa2ff; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--fg); }
header.top { display: flex; gap: 1.5rem; align-items: center; padding: .6rem 1.2rem; border-bottom: 1px solid var(--line); background: var(--card); }
header.top .brand { font-weight: 700; }
header.top nav a { margin-right: 1rem; }
main { padding: 1rem 1.2rem 3rem; max-width: 1200px; }
a { color: var(--accent); text-decoration: none; } a:hover, a:focus { text-decoration: underline; }
h1 { font-size: 1.35rem; margin: .2rem 0 .8rem; } h2 { font-size: 1.05rem; margin: 1.6rem 0 .5rem; }
table { border-collapse: collapse; width: 100%; background: var(--card); }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
pre { background: var(--card); border: 1px solid var(--line); padding: .6rem; overflow: auto; max-height: 24rem; margin: 0; }
.status { display: inline-block; padding: 0 .45rem; border-radius: 999px; font-size: 12px; font-weight: 600; border: 1px solid currentColor; }
.s-completed, .s-done, .s-idle { color: var(--ok); } .s-failed, .s-cancelled, .s-stopped { color: var(--bad); }
.s-waiting, .s-deferred, .s-retry_wait, .s-queued { color: var(--wait); } .s-running, .s-active, .s-pending, .s-retry_ready { color: var(--run); }
.muted { color: var(--muted); }
.grid { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; } @media (max-width: 800px) { .cols { grid-template-columns: 1fr; } }
form.filters { display: flex; flex-wrap: wrap; gap: .6rem; align-items: end; margin-bottom: .8rem; }
label { display: flex; flex-direction: column; gap: .15rem; font-size: 12px; color: var(--muted); }
input, select, textarea, button { font: inherit; color: var(--fg); background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .3rem .5rem; }
textarea { font-family: ui-monospace, monospace; min-height: 5rem; width: 100%; }
button { cursor: pointer; background: var(--accent); color: #fff; border-color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .8rem 1rem; margin: .6rem 0; }
.actions { display: grid; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr)); gap: 1rem; }
.alert { border: 1px solid var(--bad); color: var(--bad); background: var(--card); padding: .5rem .8rem; border-radius: 6px; margin: .6rem 0; }
.notice { border: 1px solid var(--ok); color: var(--ok); background: var(--card); padding: .5rem .8rem; border-radius: 6px; margin: .6rem 0; }
.pager { margin-top: .8rem; }
svg.timeline { width: 100%; background: var(--card); border: 1px solid var(--line); border-radius: 6px; }
svg.timeline text { font: 11px system-ui, sans-serif; fill: var(--fg); }
svg.timeline .axis { stroke: var(--line); }
svg.timeline .attempt, svg.timeline .mark { fill: var(--run); } svg.timeline .attempt.failed { fill: var(--bad); }
svg.timeline .backoff { fill: var(--wait); opacity: .45; } svg.timeline .wait { fill: var(--muted); opacity: .5; }
svg.timeline .open { opacity: .3; } svg.timeline .failure { stroke: var(--bad); stroke-width: 2; }
details summary { cursor: pointer; color: var(--muted); }
.live-dot { display: inline-block; width: .55rem; height: .55rem; border-radius: 50%; background: var(--muted); margin-left: .4rem; }
.live-dot.on { background: var(--ok); }
`;

/**
 * Live pages: the element with `data-live` names a server-sent event stream; on each change the
 * page fetches itself again (only the live part, `X-Vilano-Partial`) and swaps it in. Forms sit
 * outside the live part, so what someone is typing survives an update, and an opened `<details>`
 * stays open. A lost session (a redirect to the login page, or a stream the server refused) loads
 * the page again, which leads to the login page.
 */
export const LIVE_SCRIPT = `
(() => {
  const region = document.querySelector("[data-live]");
  if (!region) return;
  const dot = document.querySelector(".live-dot");
  let busy = false, again = false;
  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const response = await fetch(location.href, { headers: { "X-Vilano-Partial": "1" }, credentials: "same-origin", redirect: "manual" });
      if (response.ok) {
        const opened = [...region.querySelectorAll("details[id]")].filter((d) => d.open).map((d) => d.id);
        region.innerHTML = await response.text();
        for (const id of opened) { const d = document.getElementById(id); if (d) d.open = true; }
      } else if (response.type === "opaqueredirect" || response.status === 401) location.reload();
    } catch {}
    busy = false;
    if (again) { again = false; refresh(); }
  }
  const events = new EventSource(region.dataset.live);
  events.addEventListener("open", () => dot && dot.classList.add("on"));
  events.addEventListener("error", () => {
    if (dot) dot.classList.remove("on");
    // CLOSED: the server answered with something else than a stream (it gives up reconnecting).
    if (events.readyState === EventSource.CLOSED) setTimeout(() => location.reload(), 2000);
  });
  events.addEventListener("change", refresh);
})();
`;
