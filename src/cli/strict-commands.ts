/**
 * citty answers `vilano service history` with the root's usage and "Unknown command history", which
 * names neither the group nor the commands it has, and `vilano service` alone with "No command
 * specified". This finds the command the arguments name (the way citty does: the first word that
 * is not a flag names a subcommand) and, when a group is left without one of its commands, says
 * which group and what it has.
 */
import type { ArgsDef, CommandDef } from "citty";

type AnyCommand = CommandDef<ArgsDef>;

export interface CommandPath {
  /** The deepest command the arguments reach. */
  command: AnyCommand;
  /** The group it belongs to (for citty's usage line), if any. */
  parent?: AnyCommand;
  /** Its full name, as in `vilano service ask`. */
  name: string;
}

export interface UnknownCommand {
  /** The group, as in `vilano service`. */
  group: string;
  /** The word that named no command, or null when none was given. */
  given: string | null;
  /** The group's commands, hidden ones left out. */
  commands: string[];
}

const nameOf = (command: AnyCommand) => (command.meta as { name?: string } | undefined)?.name ?? "vilano";
const subCommandsOf = (command: AnyCommand) => command.subCommands as Record<string, AnyCommand> | undefined;

/** Walks the arguments down the command tree; stops at the first word that is not a subcommand. */
function walk(root: AnyCommand, rawArgs: readonly string[]): CommandPath & { next: string | null } {
  let command = root;
  let parent: AnyCommand | undefined;
  let args = rawArgs;
  const names = [nameOf(root)];
  for (;;) {
    const subs = subCommandsOf(command);
    const at = args.findIndex((arg) => !arg.startsWith("-"));
    const word = at >= 0 ? args[at]! : null;
    const sub = subs && word !== null && Object.hasOwn(subs, word) ? subs[word] : undefined;
    if (!sub) return { command, ...(parent ? { parent } : {}), name: names.join(" "), next: word };
    parent = command;
    command = sub;
    names.push(word!);
    args = args.slice(at + 1);
  }
}

/** The command the arguments name, for its usage when its own arguments are wrong. */
export function commandPath(root: AnyCommand, rawArgs: readonly string[]): CommandPath {
  const { next: _next, ...path } = walk(root, rawArgs);
  return path;
}

/** A group (a command with subcommands and nothing to run itself) left without one of its commands. */
export function findUnknownCommand(root: AnyCommand, rawArgs: readonly string[]): UnknownCommand | null {
  const { command, name, next } = walk(root, rawArgs);
  const subs = subCommandsOf(command);
  if (!subs || command.run) return null;
  const commands = Object.entries(subs)
    .filter(([, sub]) => !(sub.meta as { hidden?: boolean } | undefined)?.hidden)
    .map(([word]) => word);
  return { group: name, given: next, commands };
}

/** What to tell the user about it. */
export function unknownCommandMessage({ group, given, commands }: UnknownCommand): string {
  const listed = `its commands: ${commands.join(", ")}`;
  return given === null ? `\`${group}\` needs a command (${listed})` : `unknown command ${JSON.stringify(given)} for \`${group}\` (${listed})`;
}
