/** `workflow list`, `service list [--instances]`, `service inspect`, `daemon logs`. */
import { defineCommand } from "citty";
import { existsSync, readFileSync } from "node:fs";
import { homePaths } from "../../shared/home.ts";
import { serviceInstanceId, VilanoError } from "../../shared/index.ts";
import { currentHome, daemonClient, setRequestTimeout, timeoutArg } from "../daemon-control.ts";
import { printJson, runCommand, ui } from "../output.ts";
import { renderInspection } from "../render/inspect.ts";

const json = { type: "boolean", description: "Machine-readable output on stdout" } as const;
/** The instance key; `--service-key` is the spelling the SDK's readers know from other tools. */
export const instanceKey = { type: "string", required: true, alias: "service-key", description: "Instance key (also --service-key)" } as const;
/** `workflow list <project>` and `--project <project>` both narrow a list to one project. */
const projectArgs = {
  name: { type: "positional", required: false, description: "Only this project" },
  project: { type: "string", description: "Only this project" },
} as const;
const client = daemonClient;

type ProjectSummary = { name: string; workflows: string[]; services: string[] };

async function projectsMatching(project: string | undefined): Promise<ProjectSummary[]> {
  const all = (await client().projects.list()) as ProjectSummary[];
  return project === undefined ? all : all.filter((p) => p.name === project);
}

export const workflowCommand = defineCommand({
  meta: { name: "workflow", description: "List workflows" },
  subCommands: {
    list: defineCommand({
      meta: { name: "list", description: "List the workflows of the registered projects" },
      args: { ...projectArgs, json, timeout: timeoutArg },
      run: ({ args }) =>
        runCommand(args.json, async () => {
          setRequestTimeout(args.timeout);
          const workflows = (await projectsMatching(args.project ?? args.name)).flatMap((p) => p.workflows.map((w) => `${p.name}/${w}`));
          if (args.json) return printJson({ ok: true, workflows });
          for (const w of workflows) ui.log(w);
        }),
    }),
  },
});

export const serviceListCommand = defineCommand({
  meta: { name: "list", description: "List services (with --instances, their instances)" },
  args: { ...projectArgs, instances: { type: "boolean" }, json, timeout: timeoutArg },
  run: ({ args }) =>
    runCommand(args.json, async () => {
      setRequestTimeout(args.timeout);
      const project = args.project ?? args.name;
      if (!args.instances) {
        const services = (await projectsMatching(project)).flatMap((p) => p.services.map((s) => `${p.name}/${s}`));
        if (args.json) return printJson({ ok: true, services });
        for (const s of services) ui.log(s);
        return;
      }
      const instances = await client().runs.list({ kind: "service", ...(project ? { project } : {}), limit: 1000 });
      if (args.json) return printJson({ ok: true, instances });
      for (const i of instances) ui.log(`${i.id.padEnd(48)} ${i.status}`);
    }),
});

export const serviceInspectCommand = defineCommand({
  meta: { name: "inspect", description: "Show the instance of <project/service> with --key: state, status, queued mail, turns" },
  args: { target: { type: "positional", required: true }, key: instanceKey, json, timeout: timeoutArg },
  run: ({ args }) =>
    runCommand(args.json, async () => {
      setRequestTimeout(args.timeout);
      const [project, service] = args.target.split("/");
      if (!project || !service) throw new VilanoError("validation_failed", `invalid service ${JSON.stringify(args.target)}: write it as <project>/<service>`);
      const inspection = await client().runs.inspect(serviceInstanceId(project, service, args.key));
      if (args.json) return printJson(inspection);
      process.stdout.write(`${renderInspection(inspection as never)}\n`);
    }),
});

export const daemonLogsCommand = defineCommand({
  meta: { name: "logs", description: "Print the end of the daemon's log" },
  args: { lines: { type: "string", description: "How many lines (default 50)" }, json: { type: "boolean", description: "Machine-readable output on stdout" } },
  run: ({ args }) =>
    runCommand(args.json, async () => {
      const path = homePaths(currentHome()).daemonLog;
      if (!existsSync(path)) throw new VilanoError("not_found", `no daemon log yet at ${path}`);
      const count = args.lines === undefined ? 50 : Number(args.lines);
      if (!Number.isInteger(count) || count < 1) throw new VilanoError("validation_failed", `invalid --lines ${JSON.stringify(args.lines)}: use a whole number >= 1`);
      const lines = readFileSync(path, "utf8").trimEnd().split("\n").slice(-count);
      if (args.json) return printJson({ ok: true, path, lines });
      process.stdout.write(`${lines.join("\n")}\n`);
    }),
});
