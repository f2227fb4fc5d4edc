/**
 * citty ignores flags a command does not declare, so `--bogus-flag` or a misspelt `--key-json`
 * would silently do nothing. This finds the command the arguments name (the way citty does: the
 * first non-flag argument names a subcommand) and reports the first flag it does not know.
 */
import type { ArgsDef, CommandDef } from "citty";

type AnyCommand = CommandDef<ArgsDef>;

const camel = (name: string) => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * The long and short names a command accepts, with their types: aliases, both the kebab-case and
 * the camelCase spelling (citty takes either), `--no-x` for a known `x`, and help.
 */
function knownNames(command: AnyCommand): Map<string, string> {
  const names = new Map<string, string>([
    ["help", "boolean"],
    ["h", "boolean"],
  ]);
  for (const [name, def] of Object.entries((command.args ?? {}) as ArgsDef)) {
    if (def.type === "positional") continue;
    const aliases = "alias" in def && def.alias !== undefined ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : [];
    for (const spelling of [name, ...aliases]) for (const form of [spelling, camel(spelling), kebab(spelling)]) names.set(form, def.type ?? "string");
  }
  return names;
}

/** A flag as written: its name, and whether it is a long name written with one dash (`-service-key`). */
interface WrittenFlag {
  name: string;
  oneDash: boolean;
}

/**
 * The flags written in `args`, up to `--`. The word after a string flag written without `=`
 * is its value, whatever it looks like (`--reason -because`); a lone `-` and negative numbers are values.
 * A known long name written with one dash is kept whole rather than read as the short options
 * -s -e -r… (there are none here but -h): the user meant the long one.
 */
function flagsIn(args: readonly string[], known: Map<string, string>): WrittenFlag[] {
  const flags: WrittenFlag[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") break;
    if (arg === "-" || /^-\d/.test(arg) || !arg.startsWith("-")) continue;
    const long = arg.startsWith("--");
    const word = arg.slice(long ? 2 : 1).split("=")[0]!;
    const oneDash = !long && word.length > 1 && known.has(word);
    const names = long || oneDash ? [word] : [...word];
    flags.push(...names.map((name) => ({ name, oneDash })));
    const last = names[names.length - 1]!;
    if (!arg.includes("=") && known.get(last) === "string") i++;
  }
  return flags;
}

export interface UnknownFlag {
  flag: string;
  command: string;
  known: string[];
  /** The spelling that works, for a known long name written with one dash. */
  meant?: string;
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
    const listed = () => [...new Set([...known.keys()].filter((n) => n.length > 1 && n !== "help" && !/[A-Z]/.test(n)))].sort();
    for (const { name: flag, oneDash } of flagsIn(own, known)) {
      if (oneDash) return { flag: `-${flag}`, command: path.join(" "), known: listed(), meant: `--${flag}` };
      const name = flag.startsWith("no-") && known.has(flag.slice(3)) ? flag.slice(3) : flag;
      if (!known.has(name)) return { flag: flag.length === 1 ? `-${flag}` : `--${flag}`, command: path.join(" "), known: listed() };
    }
    if (!sub) return null;
    command = sub;
    path.push(args[at]!);
    args = args.slice(at + 1);
  }
}
