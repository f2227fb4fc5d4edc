/** Services and their instances: every keyed instance with its status and state, newest first, a page at a time. */
import type { ApiProject, ApiRun } from "../../api/index.ts";
import { Layout, runHref, Status, Time, UI_BASE } from "../layout.tsx";

export interface InstancesFilter {
  project?: string;
  service?: string;
  cursor?: string;
}

/** The services page for `filter` (its newest page, or the one after `cursor`). */
function servicesHref(filter: InstancesFilter, cursor?: string): string {
  const query = new URLSearchParams();
  if (filter.project) query.set("project", filter.project);
  if (filter.service) query.set("service", filter.service);
  if (cursor) query.set("cursor", cursor);
  const text = query.toString();
  return `${UI_BASE}/services${text ? `?${text}` : ""}`;
}

export function InstancesTable(props: { instances: ApiRun[]; nextCursor: string | undefined; filter: InstancesFilter }) {
  const { instances, nextCursor, filter } = props;
  return (
    <div>
      <table aria-label="Instances">
        <thead><tr><th>Service</th><th>Key</th><th>Status</th><th>State</th><th>Updated</th></tr></thead>
        <tbody>
          {instances.length === 0 ? (
            <tr><td colspan={5} class="muted">No instances{filter.project || filter.service ? " of this service" : " yet"}.</td></tr>
          ) : (
            instances.map((run) => (
              <tr data-run={run.id}>
                <td><a href={runHref(run.id)}>{run.project ? `${run.project}/${run.name}` : run.name}</a></td>
                <td class="mono">{run.key ?? "—"}</td>
                <td><Status status={run.status} /></td>
                <td class="mono">{JSON.stringify(run.state)?.slice(0, 120) ?? "—"}</td>
                <td><Time at={run.updatedAt} /></td>
              </tr>
            ))
          )}
        </tbody>
      </table>
      <p class="pager">
        {filter.cursor ? <a href={servicesHref(filter)}>« Newest</a> : null}
        {nextCursor ? <> {" "}<a href={servicesHref(filter, nextCursor)} rel="next">Older »</a></> : null}
      </p>
    </div>
  );
}

export function ServicesPage(props: { projects: ApiProject[]; instances: ApiRun[]; nextCursor: string | undefined; filter: InstancesFilter; liveUrl: string }) {
  const { filter } = props;
  const defined = props.projects.flatMap((p) => p.services.map((s) => ({ project: p.name, service: s })));
  const shown = (d: { project: string; service: string }) => filter.project === d.project && filter.service === d.service;
  return (
    <Layout title="Services" live={props.liveUrl}>
      <h1>Services</h1>
      {defined.length === 0 ? (
        <p class="muted">No project defines a service.</p>
      ) : (
        <p aria-label="Defined services">
          {filter.project || filter.service ? <><a href={servicesHref({})}>all</a>{" · "}</> : null}
          {defined.map((d, i) => (
            <>
              {i > 0 ? " · " : null}
              {shown(d) ? <strong>{`${d.project}/${d.service}`}</strong> : <a href={servicesHref(d)}>{`${d.project}/${d.service}`}</a>}
            </>
          ))}
        </p>
      )}
      <h2>Instances{filter.service ? ` of ${filter.project ? `${filter.project}/` : ""}${filter.service}` : ""}</h2>
      <div data-live={props.liveUrl}>
        <InstancesTable instances={props.instances} nextCursor={props.nextCursor} filter={filter} />
      </div>
    </Layout>
  );
}
