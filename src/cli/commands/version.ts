import { defineCommand } from "citty";
import { LATEST_SCHEMA_VERSION } from "../../store/index.ts";
import { VERSION } from "../../shared/index.ts";

/** `vilano version`: the build's version, its Bun and its schema version. */
export const versionCommand = defineCommand({
  meta: { name: "version", description: "Print the version of this vilano build" },
  args: { json: { type: "boolean", description: "Machine-readable output on stdout" } },
  run({ args }) {
    const info = { version: VERSION, bun: Bun.version, schemaVersion: LATEST_SCHEMA_VERSION, platform: `${process.platform}-${process.arch}` };
    if (args.json) process.stdout.write(`${JSON.stringify({ ok: true, ...info })}\n`);
    else process.stdout.write(`vilano ${info.version} (bun ${info.bun}, schema ${info.schemaVersion}, ${info.platform})\n`);
  },
});
