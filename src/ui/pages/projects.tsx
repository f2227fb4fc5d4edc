/** Projects: their snapshots and definitions, and a form to start a run of one of their workflows. */
import type { ApiProject, ApiProjectDetails } from "../../api/index.ts";
import { Alert, Csrf, Layout, Time, UI_BASE } from "../layout.tsx";

export interface StartForm {
  error?: string;
  workflow?: string;
  input?: string;
  id?: string;
}

export function ProjectsPage(props: { projects: ApiProject[] }) {
  return (
    <Layout title="Projects">
      <h1>Projects</h1>
      <table aria-label="Projects">
        <thead><tr><th>Project</th><th>Snapshot</th><th>Workflows</th><th>Services</th><th>Updated</th></tr></thead>
        <tbody>
          {props.projects.length === 0 ? (
            <tr><td colspan={5} class="muted">No projects. Register one with: vilano project add &lt;path&gt;</td></tr>
          ) : (
            props.projects.map((p) => (
              <tr>
                <td><a href={`${UI_BASE}/projects/${encodeURIComponent(p.name)}`}>{p.name}</a></td>
                <td class="mono">{p.snapshotId.slice(0, 12)}</td>
                <td>{p.workflows.join(", ") || "—"}</td>
                <td>{p.services.join(", ") || "—"}</td>
                <td><Time at={p.updatedAt} /></td>
              </tr>
            ))
          )}
        </tbody>
      </table>
    </Layout>
  );
}

export function ProjectPage(props: { project: ApiProjectDetails; csrf: string; form: StartForm }) {
  const { project, form } = props;
  return (
    <Layout title={project.name}>
      <p class="muted"><a href={`${UI_BASE}/projects`}>Projects</a></p>
      <h1>{project.name}</h1>
      <div class="card grid">
        <span class="muted">Path</span><span class="mono">{project.path}</span>
        <span class="muted">Snapshot</span><span class="mono">{project.snapshotId}</span>
        <span class="muted">Registered</span><Time at={project.createdAt} />
        <span class="muted">Updated</span><Time at={project.updatedAt} />
      </div>
      <div class="cols">
        <section><h2>Workflows</h2><ul>{project.workflows.map((w) => <li>{w}</li>)}</ul></section>
        <section><h2>Services</h2>{project.services.length === 0 ? <p class="muted">None.</p> : <ul>{project.services.map((s) => <li>{s}</li>)}</ul>}</section>
      </div>
      <h2>Snapshots ({project.snapshots.length})</h2>
      <p class="muted">New runs start on the current snapshot; each run stays on the one it started on.</p>
      <table aria-label="Snapshots">
        <thead><tr><th>Snapshot</th><th>Made</th><th>Unfinished runs</th><th>Workflows</th><th>Services</th></tr></thead>
        <tbody>
          {project.snapshots.map((s) => (
            <tr data-snapshot={s.id}>
              <td class="mono">{s.id}{s.current ? <> <span class="status s-active">current</span></> : null}</td>
              <td><Time at={s.createdAt} /></td>
              <td>{s.liveRuns}</td>
              <td>{s.workflows === undefined ? <span class="muted">unreadable manifest</span> : s.workflows.join(", ") || "—"}</td>
              <td>{s.services === undefined ? <span class="muted">unreadable manifest</span> : s.services.join(", ") || "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Start a run</h2>
      <Alert message={form.error} />
      {project.workflows.length === 0 ? (
        <p class="muted">This project defines no workflow.</p>
      ) : (
        <form class="card" method="post" action={`${UI_BASE}/projects/${encodeURIComponent(project.name)}/runs`} aria-label="Start a run">
          <Csrf token={props.csrf} />
          <label>Workflow
            <select name="workflow">{project.workflows.map((w) => <option value={w} selected={form.workflow === w}>{w}</option>)}</select>
          </label>
          <label>Input (JSON)<textarea name="input">{form.input ?? "{}"}</textarea></label>
          <label>Run id (optional)<input name="id" value={form.id ?? ""} /></label>
          <p><button type="submit">Start run</button></p>
        </form>
      )}
    </Layout>
  );
}
