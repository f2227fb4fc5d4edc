/**
 * citty ignores flags a command does not declare, so `--bogus-flag` or a misspelt `--key-json`
 * would silently do nothing. This finds the command the arguments name (the way citty does: the
 * first non-flag argument names a subcommand) and reports the first flag it does not know.
 */
import type { ArgsDef, CommandDef } from "citty";

type AnyCommand = CommandDef<ArgsDef>;

/** The long and short names a command accepts (with aliases, `--no-x` for a known `x`, and help). */
function knownNames(command: AnyCommand): Set<string> {
  const names = new Set(["help", "h"]);
  for (const [name, def] of Object.entries((command.args ?? {}) as ArgsDef)) {
    if (def.type === "positional") continue;
    names.add(name);
    const aliases = "alias" in def && def.alias !== undefined ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : [];
    for (const alias of aliases) names.add(alias);
  }
  return names;
}

/** The flag names written in `args`, up to `--` (a lone `-` and negative numbers are values). */
function flagsIn(args: readonly string[]): string[] {
  const flags: string[] = [];
  for (const arg of args) {
    if (arg === "--") break;
    if (arg === "-" || /^-\d/.test(arg) || !arg.startsWith("-")) continue;
    if (arg.startsWith("--")) flags.push(arg.slice(2).split("=")[0]!);
    else for (const letter of arg.slice(1).split("=")[0]!) flags.push(letter);
  }
  return flags;
}

export interface UnknownFlag {
  flag: string;
  command: string;
  known: string[];
}

export function findUnknownFlag(root: AnyCommand, rawArgs: readonly string[]): UnknownFlag | null {
  let command = root;
  let args = rawArgs;
  const path = [(root.meta as { name?: string } | undefined)?.name ?? "vilano"];
  for (;;) {
    const subs = command.subCommands as Record<string, AnyCommand> | undefined;
    const at = args.findIndex((arg) => !arg.startsWith("-"));
    const sub = subs && at >= 0 ? subs[args[at]!] : undefined;
    const own = sub ? args.slice(0, at) : args;
    const known = knownNames(command);
    for (const flag of flagsIn(own)) {
      const name = flag.startsWith("no-") && known.has(flag.slice(3)) ? flag.slice(3) : flag;
      if (!known.has(name)) {
        return { flag: flag.length === 1 ? `-${flag}` : `--${flag}`, command: path.join(" "), known: [...known].filter((n) => n.length > 1 && n !== "help").sort() };
      }
    }
    if (!sub) return null;
    command = sub;
    path.push(args[at]!);
    args = args.slice(at + 1);
  }
}
