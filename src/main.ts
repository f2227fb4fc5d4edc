/** Executable entry: runs the root citty command. */
import { runMain } from "citty";
import { rootCommand } from "./cli/index.ts";

await runMain(rootCommand);
