/**
 * The web dashboard in a real browser: Debian's headless Chromium driven by playwright-core,
 * against the built executable's daemon in a temporary home (scripts/ensure-chromium.sh installs
 * Chromium when it is missing; VILANO_CHROMIUM names another one).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { testDaemon } from "../helpers/daemon.ts";
import { writeProject } from "../helpers/project.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const CHROMIUM = process.env.VILANO_CHROMIUM ?? "/usr/bin/chromium";
// Without the background-networking flags Chromium keeps dialling out, and this machine's network is closed.
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

const APPROVALS = `
import { workflow } from "@vilano/runtime";
export const approval = workflow({
  name: "approval",
  run: async (input: { amount: number }, ctx) => {
    const checked = await ctx.step("check", () => ({ amount: input.amount, ok: input.amount < 1000 }));
    const decision = await ctx.waitForSignal<{ by: string }>("approve");
    return { approvedBy: decision.by, amount: checked.amount };
  },
});
`;

/** Each test's own deadline: Bun's runner kills every process of the file (the browser too) when one times out. */
const TEST_TIMEOUT_MS = 30_000;
const d = testDaemon();
let browser: Browser;
let origin: string;

/** A fresh browser context logged in through a one-time link from `vilano ui`. */
async function loggedInPage(): Promise<Page> {
  const login = d.json<{ url: string }>("ui");
  const page = await (await browser.newContext()).newPage();
  await page.goto(login.url);
  expect(new URL(page.url()).pathname).toBe("/ui/runs");
  return page;
}

const runIdOf = (result: { exitCode: number; stdout: string; stderr: string }): string => {
  expect(result.exitCode).toBe(0);
  return (JSON.parse(result.stdout) as { run: { id: string } }).run.id;
};

beforeAll(async () => {
  const agent = join(tempDir(), "my-agent");
  expect(d.cli("init", agent, "--starter").exitCode).toBe(0);
  expect(d.cli("project", "add", agent, "--name", "my-agent").exitCode).toBe(0);
  expect(d.cli("project", "add", writeProject({ "src/approvals.ts": APPROVALS }), "--name", "approvals").exitCode).toBe(0);
  origin = `http://127.0.0.1:${d.port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
});

describe("the dashboard in Chromium", () => {
  test("the starter walk shows in the runs list, and its run page shows the ops and the timeline", async () => {
    const walk = runIdOf(d.cli("run", "start", "my-agent/reviewCoordinator", "--input", '{"repoId":"repo_ui","note":"from the browser test"}', "--wait", "--json"));
    const page = await loggedInPage();
    const row = page.locator(`tr[data-run="${walk}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain("reviewCoordinator");
    expect(await row.textContent()).toContain("completed");
    await row.locator("a").click();
    await page.waitForURL(`**/ui/runs/${walk}`);
    const ops = page.locator("table[aria-label=Ops] tbody tr");
    expect(await ops.count()).toBe(3);
    expect(await ops.allTextContents()).toEqual([expect.stringContaining("connect"), expect.stringContaining("send"), expect.stringContaining("ask")]);
    const timeline = page.locator("svg.timeline");
    expect(await timeline.locator("g[data-op]").count()).toBe(3);
    expect(await timeline.locator("rect").count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator("main").textContent()).toContain('"noteCount": 1');
  }, TEST_TIMEOUT_MS);

  test("an approval waits; the signal sent from its page completes it, and the page shows the output without a reload", async () => {
    const run = runIdOf(d.cli("run", "start", "approvals/approval", "--input", '{"amount":250}', "--json"));
    const page = await loggedInPage();
    await page.goto(`${origin}/ui/runs/${run}`);
    await page.locator(".status.s-waiting").first().waitFor();
    expect(await page.locator("ul[aria-label=Waits]").textContent()).toContain("approve");
    expect(await page.inputValue("input[name=name]")).toBe("approve");
    await page.fill("textarea[name=payload]", '{"by":"ana"}');
    await Promise.all([page.waitForURL(`**/ui/runs/${run}?done=signal`), page.click("text=Send signal")]);
    await page.locator('pre:has-text("approvedBy")').waitFor({ timeout: 10_000 });
    expect(await page.locator("main").textContent()).toContain('"ana"');
    // Open on a waiting run, the page shows its output when it ends, by itself: a marker set on it
    // survives only if the page is not loaded again.
    const second = runIdOf(d.cli("run", "start", "approvals/approval", "--input", '{"amount":5}', "--json"));
    await page.goto(`${origin}/ui/runs/${second}`);
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42));
    expect(d.cli("signal", "send", second, "approve", "--input", '{"by":"terminal"}').exitCode).toBe(0);
    await page.locator('pre:has-text("terminal")').waitFor({ timeout: 15_000 });
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(42);
    expect(d.json<{ run: { status: string; output: unknown } }>("run", "inspect", run).run).toMatchObject({ status: "completed", output: { approvedBy: "ana", amount: 250 } });
  }, TEST_TIMEOUT_MS);

  // "Within a second" is `bun run bench dashboard_pages`'s figure (quiet: about 200 ms); here the
  // bound is 10× that and more, which a loaded machine running Chromium still keeps.
  test("a run started from the terminal appears in an open runs page by itself", async () => {
    const page = await loggedInPage();
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 1));
    const run = runIdOf(d.cli("run", "start", "approvals/approval", "--input", '{"amount":1}', "--json"));
    const cliDone = Date.now();
    await page.locator(`tr[data-run="${run}"]`).waitFor({ timeout: 15_000 });
    expect(Date.now() - cliDone).toBeLessThan(5_000);
    // Not by a reload: the marker set on the page is still there.
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(1);
  }, TEST_TIMEOUT_MS);

  test("bad JSON in the signal form shows the error in the page and changes nothing", async () => {
    const run = runIdOf(d.cli("run", "start", "approvals/approval", "--input", '{"amount":3}', "--json"));
    const page = await loggedInPage();
    await page.goto(`${origin}/ui/runs/${run}`);
    await page.locator(".status.s-waiting").first().waitFor();
    const before = d.json<{ events: unknown[]; signals: unknown[] }>("run", "inspect", run);
    await page.fill("textarea[name=payload]", '{"by": ana}');
    await page.click("text=Send signal");
    const alert = page.locator("[role=alert]");
    await alert.waitFor();
    expect(await alert.textContent()).toContain("The payload is not valid JSON");
    expect(await page.inputValue("textarea[name=payload]")).toBe('{"by": ana}');
    const after = d.json<{ run: { status: string }; events: unknown[]; signals: unknown[] }>("run", "inspect", run);
    expect(after.run.status).toBe("waiting");
    expect(after.signals).toEqual(before.signals);
    expect(after.events).toEqual(before.events);
  }, TEST_TIMEOUT_MS);

  test("from the pages: a run is started on its project's page (bad input refused first) and cancelled; an instance is stopped; the snapshots are listed", async () => {
    const page = await loggedInPage();
    await page.goto(`${origin}/ui/projects/approvals`);
    const snapshots = page.locator("table[aria-label=Snapshots] tbody tr");
    expect(await snapshots.count()).toBe(1);
    expect(await snapshots.first().textContent()).toContain("current");
    expect(await snapshots.first().textContent()).toContain("approval");

    await page.fill("input[name=id]", "from-the-page");
    await page.fill("textarea[name=input]", "{amount: 7}");
    await page.click("text=Start run");
    await page.locator("[role=alert]").waitFor();
    expect(await page.locator("[role=alert]").textContent()).toContain("The input is not valid JSON");
    expect(await page.inputValue("textarea[name=input]")).toBe("{amount: 7}");
    expect(d.cli("run", "inspect", "from-the-page").exitCode).not.toBe(0);

    await page.fill("textarea[name=input]", '{"amount": 7}');
    await Promise.all([page.waitForURL("**/ui/runs/from-the-page"), page.click("text=Start run")]);
    await page.locator(".status.s-waiting").first().waitFor({ timeout: 15_000 });
    await Promise.all([page.waitForURL("**/ui/runs/from-the-page?done=cancel"), page.click("text=Cancel run")]);
    await page.locator(".status.s-cancelled").first().waitFor({ timeout: 15_000 });
    expect(d.json<{ run: { status: string } }>("run", "inspect", "from-the-page").run.status).toBe("cancelled");

    expect(d.cli("run", "start", "my-agent/reviewCoordinator", "--input", '{"repoId":"repo_stop","note":"n"}', "--wait").exitCode).toBe(0);
    const instance = "svc:my-agent/reviewer:repo_stop";
    await page.goto(`${origin}/ui/services`);
    await page.click("[aria-label='Defined services'] >> text=my-agent/reviewer");
    await page.waitForURL("**/ui/services?project=my-agent&service=reviewer");
    const instances = await page.locator("table[aria-label=Instances] tbody tr").allTextContents();
    expect(instances.length).toBeGreaterThan(0);
    expect(instances.every((row) => row.includes("my-agent/reviewer"))).toBe(true);
    await page.locator(`tr[data-run="${instance}"] a`).click();
    await page.waitForURL(`**/ui/runs/${encodeURIComponent(instance)}`);
    await Promise.all([page.waitForURL("**?done=stop"), page.click("text=Stop instance")]);
    await page.locator(".status.s-stopped").first().waitFor({ timeout: 15_000 });
    expect(d.json<{ run: { status: string } }>("run", "inspect", instance).run.status).toBe("stopped");
  }, TEST_TIMEOUT_MS);

  test("without the cookie every dashboard route leads to the login page; forms from elsewhere or without the CSRF token are refused; a login code works once", async () => {
    const page = await (await browser.newContext()).newPage();
    for (const path of ["/ui", "/ui/runs", "/ui/runs/anything", "/ui/services", "/ui/projects", "/ui/projects/my-agent", "/ui/live"]) {
      await page.goto(`${origin}${path}`);
      expect(new URL(page.url()).pathname).toBe("/ui/login");
      expect(await page.locator("h1").textContent()).toBe("Log in to the dashboard");
    }
    // The cookie opens the dashboard only: the JSON API still wants the token.
    const logged = await loggedInPage();
    const api = await logged.evaluate(async () => (await fetch("/v1/runs")).status);
    expect(api).toBe(401);

    const run = runIdOf(d.cli("run", "start", "approvals/approval", "--input", '{"amount":9}', "--json"));
    const cookies = await logged.context().cookies();
    const session = cookies.find((c) => c.name === `vilano_session_${d.port}`)!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/ui" });
    const cookie = `${session.name}=${session.value}`;
    await logged.goto(`${origin}/ui/runs/${run}`);
    const csrf = await logged.inputValue("input[name=_csrf] >> nth=0");
    const post = (headers: Record<string, string>, body: string) =>
      fetch(`${origin}/ui/runs/${run}/signal`, { method: "POST", redirect: "manual", headers: { cookie, "content-type": "application/x-www-form-urlencoded", ...headers }, body });
    const foreign = await post({ origin: "http://evil.example" }, `_csrf=${encodeURIComponent(csrf)}&name=approve&payload=%7B%22by%22%3A%22x%22%7D`);
    expect(foreign.status).toBe(403);
    const noOrigin = await post({}, `_csrf=${encodeURIComponent(csrf)}&name=approve&payload=%7B%22by%22%3A%22x%22%7D`);
    expect(noOrigin.status).toBe(403);
    const noToken = await post({ origin }, "name=approve&payload=%7B%22by%22%3A%22x%22%7D");
    expect(noToken.status).toBe(403);
    const wrongToken = await post({ origin }, "_csrf=not-the-token&name=approve&payload=%7B%22by%22%3A%22x%22%7D");
    expect(wrongToken.status).toBe(403);
    expect(d.json<{ run: { status: string }; signals: unknown[] }>("run", "inspect", run)).toMatchObject({ run: { status: "waiting" }, signals: [] });
    // The same request from the page itself goes through.
    const good = await post({ origin }, `_csrf=${encodeURIComponent(csrf)}&name=approve&payload=%7B%22by%22%3A%22x%22%7D`);
    expect(good.status).toBe(303);

    const login = d.json<{ url: string }>("ui");
    const first = await fetch(login.url, { redirect: "manual" });
    expect(first.status).toBe(303);
    expect(first.headers.get("set-cookie")).toContain("HttpOnly");
    const again = await fetch(login.url, { redirect: "manual" });
    expect(again.status).toBe(401);
    expect(again.headers.get("set-cookie")).toBeNull();
    expect(await again.text()).toContain("used already or it expired");
  }, TEST_TIMEOUT_MS);
});
