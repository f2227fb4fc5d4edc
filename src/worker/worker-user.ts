/**
 * `[worker] user = "name"` in `vilano.toml`: the project's workers (and what they spawn) run as that
 * OS user, so its code cannot read the daemon's home (the token, the database), signal the daemon or
 * read its `/proc` files — a boundary the same user never is. Only a daemon running as root can
 * start processes as another user; the user must exist and must not be root.
 */
import { VilanoError } from "../shared/index.ts";

export interface WorkerUser {
  name: string;
  uid: number;
  gid: number;
  /** Its home folder from the user database: the workers' `HOME`. */
  home: string;
}

/** The account `name` as the user database (`getent passwd`, so NSS users count too) has it; null when there is none. */
function lookUp(name: string): WorkerUser | null {
  const found = Bun.spawnSync(["getent", "passwd", name], { stdout: "pipe", stderr: "ignore", env: { PATH: "/usr/bin:/bin:/usr/sbin:/sbin" } });
  if (found.exitCode !== 0) return null;
  const fields = found.stdout.toString().trim().split("\n")[0]!.split(":");
  const [uid, gid] = [Number(fields[2]), Number(fields[3])];
  if (fields[0] !== name || !Number.isInteger(uid) || !Number.isInteger(gid)) return null;
  return { name, uid, gid, home: fields[5] || "/" };
}

/** The user `[worker] user` names in `source`, checked: refused with what is wrong and what to do. */
export function resolveWorkerUser(name: string, source: string): WorkerUser {
  const self = process.getuid?.();
  if (self !== 0) {
    throw new VilanoError("validation_failed", `${source}: [worker] user = ${JSON.stringify(name)} needs the daemon to run as root (it runs as uid ${self ?? "unknown"}): only root can start processes as another user`, {
      hint: "start the daemon as root (a system service), or remove `user` and keep this project's code as trusted as the daemon's own user",
    });
  }
  const user = lookUp(name);
  if (user === null) {
    throw new VilanoError("validation_failed", `${source}: [worker] user = ${JSON.stringify(name)}: there is no such user on this machine`, {
      hint: `create it first, e.g. \`useradd --system --no-create-home ${name}\``,
    });
  }
  if (user.uid === 0) {
    throw new VilanoError("validation_failed", `${source}: [worker] user = ${JSON.stringify(name)} is root (uid 0): name an unprivileged user, or remove \`user\``);
  }
  return user;
}
