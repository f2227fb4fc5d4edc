import { defineCommand } from "citty";
import { ensureDaemon, daemonClient, setRequestTimeout, timeoutArg } from "../daemon-control.ts";
import { printJson, runCommand, ui } from "../output.ts";

const json = { type: "boolean", description: "Machine-readable output on stdout" } as const;

export const projectCommand = defineCommand({
  meta: { name: "project", description: "Register and list projects" },
  subCommands: {
    add: defineCommand({
      meta: { name: "add", description: "Snapshot a project, check its definitions and register it (runs its top-level code)" },
      args: { path: { type: "positional", required: true }, name: { type: "string", required: true, description: "Project name" }, json, timeout: timeoutArg },
      run: ({ args }) =>
        runCommand(args.json, async () => {
          setRequestTimeout(args.timeout);
          await ensureDaemon();
          const project = await daemonClient().projects.add(args.path, args.name);
          if (args.json) return printJson({ ok: true, project });
          ui.success(`project ${project.name} registered (snapshot ${project.snapshotId}); its top-level code ran in a worker to check the definitions`);
          for (const w of project.workflows) ui.log(`  workflow ${project.name}/${w}`);
          for (const s of project.services) ui.log(`  service  ${project.name}/${s}`);
        }),
    }),
    sync: defineCommand({
      meta: { name: "sync", description: "Snapshot the project again; new runs use it, running ones keep theirs" },
      args: { name: { type: "positional", required: true }, json, timeout: timeoutArg },
      run: ({ args }) =>
        runCommand(args.json, async () => {
          setRequestTimeout(args.timeout);
          await ensureDaemon();
          const project = await daemonClient().projects.sync(args.name);
          if (args.json) return printJson({ ok: true, project });
          ui.success(`project ${project.name} synced (snapshot ${project.snapshotId})`);
        }),
    }),
    inspect: defineCommand({
      meta: { name: "inspect", description: "Show a project" },
      args: { name: { type: "positional", required: true }, json, timeout: timeoutArg },
      run: ({ args }) =>
        runCommand(args.json, async () => {
          setRequestTimeout(args.timeout);
          const project = await daemonClient().projects.get(args.name);
          if (args.json) return printJson({ ok: true, project });
          process.stdout.write(`${JSON.stringify(project, null, 2)}\n`);
        }),
    }),
    remove: defineCommand({
      meta: { name: "remove", description: "Unregister a project (its runs and snapshots stay)" },
      args: { name: { type: "positional", required: true }, json, timeout: timeoutArg },
      run: ({ args }) =>
        runCommand(args.json, async () => {
          setRequestTimeout(args.timeout);
          await ensureDaemon();
          await daemonClient().projects.remove(args.name);
          if (args.json) return printJson({ ok: true });
          ui.success(`project ${args.name} removed`);
        }),
    }),
    list: defineCommand({
      meta: { name: "list", description: "List registered projects" },
      args: { json, timeout: timeoutArg },
      run: ({ args }) =>
        runCommand(args.json, async () => {
          setRequestTimeout(args.timeout);
          await ensureDaemon();
          const projects = await daemonClient().projects.list();
          if (args.json) return printJson({ ok: true, projects });
          for (const p of projects) ui.log(`${p.name}  ${p.path}  (snapshot ${p.snapshotId})`);
          if (projects.length === 0) ui.log("no projects registered: `vilano project add <path> --name <name>`");
        }),
    }),
  },
});
