/**
 * `vilano doctor [--fix]`: checks the runtime home — folder and token modes, a stale daemon.json,
 * the database's integrity and schema — and with `--fix` repairs what it safely can.
 */
import { defineCommand } from "citty";
import { chmodSync, existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { ensureHome, homePaths, readDaemonInfo } from "../../shared/home.ts";
import { loadConfig, VERSION } from "../../shared/index.ts";
import { checkDatabase, createStore, isPostgresUrl, LATEST_SCHEMA_VERSION, redactUrl } from "../../store/index.ts";
import { currentHome } from "../daemon-control.ts";
import { printJson, runCommand, ui } from "../output.ts";

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fixed?: boolean;
}

function modeCheck(name: string, path: string, want: number, fix: boolean): Check {
  if (!existsSync(path)) return { name, ok: true, detail: `${path} does not exist yet` };
  const mode = statSync(path).mode & 0o777;
  if (mode === want) return { name, ok: true, detail: `${path} is ${want.toString(8)}` };
  if (fix) {
    chmodSync(path, want);
    return { name, ok: true, fixed: true, detail: `${path} was ${mode.toString(8)}, now ${want.toString(8)}` };
  }
  return { name, ok: false, detail: `${path} is ${mode.toString(8)}, should be ${want.toString(8)} (--fix sets it)` };
}

export const doctorCommand = defineCommand({
  meta: { name: "doctor", description: "Check the runtime home, token, daemon and database (--fix repairs what it can)" },
  args: { fix: { type: "boolean" }, json: { type: "boolean", description: "Machine-readable output on stdout" } },
  run: ({ args }) =>
    runCommand(args.json, async () => {
      const home = currentHome();
      const fix = args.fix === true;
      const paths = fix ? ensureHome(home) : homePaths(home);
      const checks: Check[] = [
        modeCheck("home", home, 0o700, fix),
        modeCheck("token", paths.token, 0o600, fix),
        modeCheck("database", join(home, "runtime.sqlite"), 0o600, fix),
      ];
      const { database } = loadConfig();
      if (isPostgresUrl(database)) checks.push({ name: "store", ok: true, detail: `PostgreSQL at ${redactUrl(database)} (VILANO_DATABASE_URL)` });
      const daemon = readDaemonInfo(paths); // removes a stale daemon.json by itself
      checks.push({ name: "daemon", ok: true, detail: daemon ? `running: pid ${daemon.pid}, port ${daemon.port}, version ${daemon.version}` : "not running" });
      if (daemon && daemon.version !== VERSION) checks.push({ name: "daemon version", ok: false, detail: `the daemon is ${daemon.version}, this vilano is ${VERSION}: restart it` });
      const dbPath = join(home, "runtime.sqlite");
      if (existsSync(dbPath) && !daemon) {
        try {
          if (fix) {
            // --fix may write: opening migrates an older schema.
            const store = createStore(dbPath);
            const integrity = await store.integrityCheck();
            checks.push({ name: "database", ok: integrity === "ok", detail: `integrity ${integrity}, schema ${store.schemaVersion} of ${LATEST_SCHEMA_VERSION}` });
            await store.close();
          } else {
            // Without --fix nothing is written: read-only, nothing migrated.
            const { integrity, schemaVersion } = checkDatabase(dbPath);
            const behind = schemaVersion < LATEST_SCHEMA_VERSION ? " (older: the daemon or --fix migrates it)" : schemaVersion > LATEST_SCHEMA_VERSION ? " (newer than this vilano: upgrade it)" : "";
            checks.push({
              name: "database",
              ok: integrity === "ok" && schemaVersion <= LATEST_SCHEMA_VERSION,
              detail: `integrity ${integrity}, schema ${schemaVersion} of ${LATEST_SCHEMA_VERSION}${behind}`,
            });
          }
        } catch (error) {
          checks.push({ name: "database", ok: false, detail: (error as Error).message });
        }
      }
      const ok = checks.every((c) => c.ok);
      if (args.json) printJson({ ok, checks });
      else for (const c of checks) (c.ok ? ui.success : ui.error)(`${c.name}: ${c.detail}${c.fixed ? " (fixed)" : ""}`);
      if (!ok) process.exit(1);
    }),
});
