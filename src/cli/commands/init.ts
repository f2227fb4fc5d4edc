import { defineCommand } from "citty";
import { initProject } from "../../project/index.ts";
import { printJson, runCommand, ui } from "../output.ts";

/** `vilano init [path] [--starter] [--force]`: the starter project, or a manifest for an existing one. */
export const initCommand = defineCommand({
  meta: { name: "init", description: "Write the starter agent (--starter), or a manifest for an existing project" },
  args: {
    path: { type: "positional", required: false, default: ".", description: "Project folder" },
    starter: { type: "boolean", description: "Write the starter agent into a new folder" },
    force: { type: "boolean", description: "Write over existing files" },
    json: { type: "boolean", description: "Machine-readable output on stdout" },
  },
  run: ({ args }) =>
    runCommand(args.json, async () => {
      const result = await initProject(args.path, { starter: args.starter === true, force: args.force === true });
      if (args.json) return printJson({ ok: true, ...result });
      ui.success(`${result.starter ? "starter agent written to" : "manifest written for"} ${result.path}`);
      for (const d of result.definitions) ui.log(`  ${d.kind.padEnd(8)} ${d.name}  (${d.file} → ${d.exportName})`);
      ui.log(`  types for @vilano/runtime in .vilano/types (no install needed)`);
      if (result.tsconfigHint) ui.warn(result.tsconfigHint);
    }),
});
