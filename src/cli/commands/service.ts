/** `service ensure|list|inspect|send|ask|signal|stop`. */
import { defineCommand } from "citty";
import { serviceInstanceId, VilanoError } from "../../shared/index.ts";
import { ensureDaemon, daemonClient, setRequestTimeout, timeoutArg } from "../daemon-control.ts";
import { parseInputFlag } from "../input.ts";
import { printJson, runCommand, ui } from "../output.ts";
import { renderInspection } from "../render/inspect.ts";
import { resolveTarget } from "../target.ts";
import { givenKey, instanceKeyArgs, json, keyJsonArg, projectArgs, projectsMatching, requiredKey } from "./common.ts";

const serviceListCommand = defineCommand({
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
      const instances = await daemonClient().runs.list({ kind: "service", ...(project ? { project } : {}), limit: 1000 });
      if (args.json) return printJson({ ok: true, instances });
      for (const i of instances) ui.log(`${i.id.padEnd(48)} ${i.status}`);
    }),
});

const serviceInspectCommand = defineCommand({
  meta: { name: "inspect", description: "Show the instance of <project/service> with --key: state, status, queued mail, turns" },
  args: { target: { type: "positional", required: true }, ...instanceKeyArgs, json, timeout: timeoutArg },
  run: ({ args }) =>
    runCommand(args.json, async () => {
      setRequestTimeout(args.timeout);
      const key = requiredKey(args);
      const [project, service] = args.target.split("/");
      if (!project || !service) throw new VilanoError("validation_failed", `invalid service ${JSON.stringify(args.target)}: write it as <project>/<service>`);
      const inspection = await daemonClient().runs.inspect(serviceInstanceId(project, service, key));
      if (args.json) return printJson(inspection);
      process.stdout.write(`${renderInspection(inspection)}\n`);
    }),
});

const stopService = defineCommand({
  meta: { name: "stop", description: "Stop the instance of <project/service> with --key (its backlog fails)" },
  args: { target: { type: "positional", required: true }, ...instanceKeyArgs, json, timeout: timeoutArg },
  run: ({ args }) =>
    runCommand(args.json, async () => {
      setRequestTimeout(args.timeout);
      const key = requiredKey(args);
      await ensureDaemon();
      const instance = await daemonClient().services.stop(args.target, key);
      if (args.json) return printJson({ ok: true, instance });
      ui.success(`${instance.id} is ${instance.status}`);
    }),
});

const ensureService = defineCommand({
  meta: { name: "ensure", description: "Create (or get) the instance of <project/service> for a key input; a --key given too must be the one it gives" },
  args: {
    target: { type: "positional", required: true, description: "<project>/<service>" },
    "key-json": { ...keyJsonArg, required: true },
    ...instanceKeyArgs,
    json,
    timeout: timeoutArg,
  },
  run: ({ args }) =>
    runCommand(args.json, async () => {
      setRequestTimeout(args.timeout);
      const key = givenKey(args);
      const keyInput = await parseInputFlag(args["key-json"], "--key-json");
      await ensureDaemon();
      const client = daemonClient();
      const target = await resolveTarget(client, args.target, "service");
      // The key input creates the instance; a key beside it is checked by the daemon before anything is made.
      const { instance, created } = await client.services.ensure(target, keyInput, key === undefined ? {} : { key });
      if (args.json) return printJson({ ok: true, instance, created });
      ui.success(`${instance.id} ${created ? "created" : "already exists"} (${instance.status})`);
    }),
});

/**
 * Which instance a send, ask or signal goes to: by key (it must exist), by key input (created if
 * needed), or by both (the key input's key must be the key given).
 */
async function instanceAddress(args: { key?: string; "service-key"?: string; "key-json"?: string; input?: string }) {
  const key = givenKey(args);
  if (key === undefined && args["key-json"] === undefined) {
    throw new VilanoError("validation_failed", "give the instance's key with --key (or --service-key), or its key input with --key-json");
  }
  if (args["key-json"] === "-" && args.input === "-") {
    throw new VilanoError("validation_failed", "--key-json and --input cannot both read standard input: give one of them as JSON or @file");
  }
  const keyInput = await parseInputFlag(args["key-json"], "--key-json");
  return { ...(key !== undefined ? { key } : {}), ...(keyInput !== undefined ? { keyInput } : {}) };
}

export const serviceCommand = defineCommand({
  meta: { name: "service", description: "Talk to service instances" },
  subCommands: {
    ensure: ensureService,
    stop: stopService,
    list: serviceListCommand,
    inspect: serviceInspectCommand,
    ...Object.fromEntries(
    (["send", "ask", "signal"] as const).map((kind) => [
      kind,
      defineCommand({
        meta: { name: kind, description: `${kind} a message to the instance of <project/service> with --key (or --key-json)` },
        args: {
          target: { type: "positional", required: true, description: "<project>/<service>" },
          handler: { type: "positional", required: true, description: "Handler name" },
          ...instanceKeyArgs,
          "key-json": keyJsonArg,
          input: { type: "string", description: "Payload as JSON, @file to read it from a file, or - for standard input" },
          "wait-timeout": { type: "string", description: "ask: give up after this long (ask_timeout)" },
          json,
          timeout: timeoutArg,
        },
        run: ({ args }) =>
          runCommand(args.json, async () => {
            setRequestTimeout(args.timeout);
            const address = await instanceAddress(args);
            const payload = await parseInputFlag(args.input);
            await ensureDaemon();
            const client = daemonClient();
            const target = await resolveTarget(client, args.target, "service");
            if (!/^[^/\s]+\/[^/\s]+$/.test(target)) {
              throw new VilanoError("validation_failed", `invalid service ${JSON.stringify(args.target)}: write it as <project>/<service>`);
            }
            const timeout = args["wait-timeout"];
            const result = await client.services.call(target, {
              kind,
              handler: args.handler,
              ...address,
              payload,
              ...(timeout !== undefined ? { timeout } : {}),
            });
            if (args.json) return printJson(kind === "ask" ? { ok: true, reply: result.reply } : { ok: true, serviceRunId: result.serviceRunId });
            if (kind === "ask") process.stdout.write(`${JSON.stringify(result.reply, null, 2)}\n`);
            else ui.success(`${kind} delivered to ${result.serviceRunId}`);
          }),
      }),
    ]),
    ),
  },
});
