/**
 * The soak's flags, checked once: a flag that is unknown, repeated without a value or out of
 * range is refused with a message naming it (a typo must not silently run 500 default rounds).
 */
export interface SoakOptions {
  rounds: number;
  seed: number;
  /** Mix the poison (neighbour kills, values over the cap, untimed loops) into the load. */
  poison: boolean;
  /** The daemon's resident memory, in MiB, past which the soak fails. */
  maxRssMb: number;
  /** How long one verification pass waits for the runs it checks, in seconds. */
  waitSeconds: number;
}

export const SOAK_USAGE = "usage: bun run soak [--rounds N] [--seed S] [--poison on|off] [--max-rss-mb MB] [--wait-s SECONDS]";

const DEFAULTS: SoakOptions = { rounds: 500, seed: 1, poison: true, maxRssMb: 256, waitSeconds: 30 };

function wholeNumber(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new Error(`--${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}\n${SOAK_USAGE}`);
  }
  return n;
}

/** Parses the soak's arguments (those after the script's path). */
export function parseSoakOptions(argv: readonly string[]): SoakOptions {
  const options = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    if (!flag.startsWith("--")) throw new Error(`unexpected argument ${JSON.stringify(flag)}\n${SOAK_USAGE}`);
    if (value === undefined || value.startsWith("--")) throw new Error(`${flag} needs a value\n${SOAK_USAGE}`);
    switch (flag) {
      case "--rounds":
        options.rounds = wholeNumber("rounds", value, 1, 1_000_000);
        break;
      case "--seed":
        options.seed = wholeNumber("seed", value, 0, 2 ** 32 - 1);
        break;
      case "--poison":
        if (value !== "on" && value !== "off") throw new Error(`--poison must be "on" or "off", got ${JSON.stringify(value)}\n${SOAK_USAGE}`);
        options.poison = value === "on";
        break;
      case "--max-rss-mb":
        options.maxRssMb = wholeNumber("max-rss-mb", value, 16, 1_048_576);
        break;
      case "--wait-s":
        options.waitSeconds = wholeNumber("wait-s", value, 1, 3600);
        break;
      default:
        throw new Error(`unknown flag ${flag}\n${SOAK_USAGE}`);
    }
  }
  return options;
}
