/** Services and their instances: every keyed instance with its status, newest activity first. */
import type { ApiProject, ApiRun } from "../../api/index.ts";
import { Layout, runHref, Status, Time } from "../layout.tsx";

export function InstancesTable(props: { instances: ApiRun[] }) {
  return (
    <table aria-label="Instances">
      <thead><tr><th>Service</th><th>Key</th><th>Status</th><th>State</th><th>Updated</th></tr></thead>
      <tbody>
        {props.instances.length === 0 ? (
          <tr><td colspan={5} class="muted">No instances yet.</td></tr>
        ) : (
          props.instances.map((run) => (
            <tr data-run={run.id}>
              <td><a href={runHref(run.id)}>{run.name}</a></td>
              <td class="mono">{run.key ?? "—"}</td>
              <td><Status status={run.status} /></td>
              <td class="mono">{JSON.stringify(run.state)?.slice(0, 120) ?? "—"}</td>
              <td><Time at={run.updatedAt} /></td>
            </tr>
          ))
        )}
      </tbody>
    </table>
  );
}

export function ServicesPage(props: { projects: ApiProject[]; instances: ApiRun[]; liveUrl: string }) {
  const defined = props.projects.flatMap((p) => p.services.map((s) => ({ project: p.name, service: s })));
  return (
    <Layout title="Services" live={props.liveUrl}>
      <h1>Services</h1>
      <p class="muted">
        {defined.length === 0 ? "No project defines a service." : `Defined: ${defined.map((d) => `${d.project}/${d.service}`).join(", ")}.`}
      </p>
      <h2>Instances</h2>
      <div data-live={props.liveUrl}>
        <InstancesTable instances={props.instances} />
      </div>
    </Layout>
  );
}
