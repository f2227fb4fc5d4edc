/** The root `vilano` command; each group lives in commands/. */
import { defineCommand } from "citty";
import { VERSION } from "../shared/index.ts";
import { daemonCommand } from "./commands/daemon.ts";
import { devCommand } from "./commands/dev.ts";
import { doctorCommand } from "./commands/doctor.ts";
import { initCommand } from "./commands/init.ts";
import { projectCommand } from "./commands/project.ts";
import { runCommandGroup } from "./commands/run.ts";
import { serviceCommand } from "./commands/service.ts";
import { signalCommand } from "./commands/signal.ts";
import { workflowCommand } from "./commands/workflow.ts";
import { versionCommand } from "./commands/version.ts";
import { workerCommand } from "./commands/worker.ts";
import { uiCommand } from "./commands/ui.ts";

export const rootCommand = defineCommand({
  meta: { name: "vilano", version: VERSION, description: "Local-first durable execution runtime for TypeScript" },
  subCommands: { version: versionCommand, doctor: doctorCommand, init: initCommand, dev: devCommand, daemon: daemonCommand, project: projectCommand, run: runCommandGroup, service: serviceCommand, signal: signalCommand, workflow: workflowCommand, worker: workerCommand, ui: uiCommand },
});
