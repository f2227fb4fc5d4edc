/** `workflow list [project]`. */
import { defineCommand } from "citty";
import { setRequestTimeout, timeoutArg } from "../daemon-control.ts";
import { printJson, runCommand, ui } from "../output.ts";
import { json, projectArgs, projectsMatching } from "./common.ts";

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
