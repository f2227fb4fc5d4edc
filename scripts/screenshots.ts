/**
 * `bun run screenshots`: the README's dashboard screenshots, taken in Debian's Chromium from the
 * built executable's daemon in a temporary home (the starter walk, and an approval waiting for its
 * signal). Writes docs/screenshots/*.png.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { buildManifest, scanDefinitions } from "../src/project/index.ts";
import { signalProcess } from "../src/shared/index.ts";
import { freePort } from "./bench/common.ts";

const root = join(import.meta.dir, "..");
const binary = join(root, "dist", "vilano");
const work = mkdtempSync(join(tmpdir(), "vilano-shots-"));
const home = join(work, "home");
const port = freePort();
const env = { ...process.env, VILANO_HOME: home, VILANO_PORT: String(port), NO_COLOR: "1" };
const cli = (...args: string[]) => {
  const result = Bun.spawnSync([binary, ...args], { env, stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`vilano ${args.join(" ")}: ${result.stderr.toString()}${result.stdout.toString()}`);
  return result.stdout.toString();
};

const approvals = join(work, "approvals");
mkdirSync(join(approvals, "src"), { recursive: true });
writeFileSync(
  join(approvals, "src", "approvals.ts"),
  `import { workflow } from "@vilano/runtime";
export const approval = workflow({
  name: "approval",
  run: async (input: { amount: number }, ctx) => {
    const checked = await ctx.step("check", () => ({ amount: input.amount, ok: input.amount < 1000 }));
    await ctx.sleep("300ms");
    const decision = await ctx.waitForSignal<{ by: string }>("approve");
    return { approvedBy: decision.by, amount: checked.amount };
  },
});
`,
);
writeFileSync(join(approvals, "vilano.manifest.json"), JSON.stringify(buildManifest(scanDefinitions(approvals)), null, 2));

let pid: number | undefined;
try {
  cli("init", join(work, "my-agent"), "--starter");
  cli("project", "add", join(work, "my-agent"), "--name", "my-agent");
  cli("project", "add", approvals, "--name", "approvals");
  pid = (JSON.parse(cli("daemon", "status", "--json")) as { daemon: { pid: number } }).daemon.pid;
  for (const repo of ["repo_123", "repo_456"]) cli("run", "start", "my-agent/reviewCoordinator", "--input", JSON.stringify({ repoId: repo, note: "Ship 0.1" }), "--wait");
  const waiting = (JSON.parse(cli("run", "start", "approvals/approval", "--input", '{"amount":250}', "--json")) as { run: { id: string } }).run.id;
  await Bun.sleep(600); // the sleep ends and the run waits for its signal
  const login = JSON.parse(cli("ui", "--json")) as { url: string };
  const browser = await chromium.launch({
    executablePath: process.env.VILANO_CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(login.url);
  const out = join(root, "docs", "screenshots");
  mkdirSync(out, { recursive: true });
  await page.screenshot({ path: join(out, "runs.png") });
  await page.goto(`http://127.0.0.1:${port}/ui/runs/${waiting}`);
  await page.screenshot({ path: join(out, "run.png"), fullPage: true });
  await browser.close();
  console.log(`screenshots written to ${out}`);
} finally {
  if (pid !== undefined) signalProcess(pid, "SIGTERM");
  await Bun.sleep(300);
  Bun.spawnSync(["chmod", "-R", "u+w", work]);
  rmSync(work, { recursive: true, force: true });
}
