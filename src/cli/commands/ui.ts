/** `ui [--open]`: a one-time login link to the daemon's web dashboard. */
import { defineCommand } from "citty";
import { daemonClient, setRequestTimeout, timeoutArg } from "../daemon-control.ts";
import { printJson, runCommand, ui } from "../output.ts";
import { json } from "./common.ts";

/** The desktop's way to open a link; a missing opener is not an error (the link is printed). */
function openInBrowser(url: string): boolean {
  const opener = process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
  if (!Bun.which(opener)) return false;
  try {
    Bun.spawn([opener, url], { stdio: ["ignore", "ignore", "ignore"] }).unref();
    return true;
  } catch {
    return false;
  }
}

export const uiCommand = defineCommand({
  meta: { name: "ui", description: "Print a one-time login link to the web dashboard (works once, for five minutes)" },
  args: {
    open: { type: "boolean", description: "Also open the link in the default browser" },
    json,
    timeout: timeoutArg,
  },
  run: ({ args }) =>
    runCommand(args.json, async () => {
      setRequestTimeout(args.timeout);
      const login = await daemonClient().dashboardLogin();
      const opened = args.open ? openInBrowser(login.url) : false;
      if (args.json) return printJson({ ok: true, ...login, opened });
      ui.log(login.url);
      if (args.open && !opened) ui.warn("no browser opener found on this machine; open the link above yourself");
      ui.info(`the link works once, until ${new Date(login.expiresAt).toISOString()}`);
    }),
});
