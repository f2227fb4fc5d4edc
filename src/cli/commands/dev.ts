/**
 * `vilano dev [path]`: the daemon in the foreground, with the project registered (or synced) and
 * synced again whenever its files change. New runs use the new snapshot; running ones keep theirs.
 */
import { defineCommand } from "citty";
import { existsSync, watch } from "node:fs";
import { basename, join, resolve } from "node:path";
import { MANIFEST_FILE } from "../../project/index.ts";
import { startDaemon } from "../../runtime/index.ts";
import { homePaths, readDaemonInfo } from "../../shared/home.ts";
import { createLogger, hideSettings, loadConfig, VilanoError } from "../../shared/index.ts";
import { currentHome } from "../daemon-control.ts";
import { runCommand, ui } from "../output.ts";

const IGNORED = new Set([".vilano", "node_modules", ".git"]);
const DEBOUNCE_MS = 200;

/** A project name from a folder name: lower case, other characters as "-". */
export function projectNameFor(folder: string): string {
  const name = basename(folder).toLowerCase().replace(/[^a-z0-9_-]+/g, "-").replace(/^[-_]+/, "");
  return name || "project";
}

export const devCommand = defineCommand({
  meta: { name: "dev", description: "Run the daemon in the foreground and keep a project registered and synced as its files change" },
  args: {
    path: { type: "positional", required: false, default: ".", description: "Project folder" },
    name: { type: "string", description: "Project name (default: the folder's name)" },
  },
  run: ({ args }) =>
    runCommand(false, async () => {
      hideSettings(); // a foreground daemon, as `daemon run`: nothing it spawns inherits VILANO_*
      const dir = resolve(args.path);
      if (!existsSync(join(dir, MANIFEST_FILE))) {
        throw new VilanoError("not_found", `${join(dir, MANIFEST_FILE)} is missing`, { hint: `create it with \`vilano init ${args.path}\`` });
      }
      const home = currentHome();
      const running = readDaemonInfo(homePaths(home));
      if (running) throw new VilanoError("conflict", `a daemon already runs for ${home} (pid ${running.pid})`, { hint: "stop it with `vilano daemon stop`, or use `vilano project sync`" });
      const name = args.name ?? projectNameFor(dir);
      const daemon = await startDaemon({ home, port: loadConfig().port, logger: createLogger("info") });
      const sync = async () => {
        try {
          const exists = (await daemon.runtime.projects.list()).some((p) => p.name === name);
          const project = exists ? await daemon.runtime.projects.sync(name) : await daemon.runtime.projects.add(dir, name);
          ui.success(`project ${name} ${exists ? "synced" : "registered"}: snapshot ${project.snapshotId} (${project.workflows.length} workflow(s), ${project.services.length} service(s))`);
        } catch (error) {
          ui.error(`project ${name} was not synced: ${(error as Error).message}`);
        }
      };
      await sync();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const watcher = watch(dir, { recursive: true }, (_event, file) => {
        if (file && IGNORED.has(String(file).split(/[\\/]/)[0]!)) return;
        clearTimeout(timer);
        timer = setTimeout(() => void sync(), DEBOUNCE_MS);
      });
      ui.info(`watching ${dir}; Ctrl-C stops`);
      const stop = () => {
        watcher.close();
        void daemon.stop().then(() => process.exit(0));
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
      await new Promise(() => {});
    }),
});
