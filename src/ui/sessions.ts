/**
 * Dashboard logins: `vilano ui` asks the daemon (with the token) for a one-time login code; the
 * browser that opens the login URL gets a session (an HttpOnly, SameSite=Strict cookie) and a CSRF
 * token for its forms. Both live in the daemon's memory only: a restart asks for a new login.
 */
import { randomBytes } from "node:crypto";

/** How long a login code may wait to be used. */
export const LOGIN_CODE_TTL_MS = 5 * 60_000;
/** How long a session lasts from its login. */
export const SESSION_TTL_MS = 12 * 60 * 60_000;
/** Login codes waiting at once: an old one is dropped when a new one would pass this. */
const MAX_PENDING_CODES = 100;

export interface Session {
  id: string;
  /** Sent with every form of this session; a POST without it is refused. */
  csrf: string;
  expiresAt: number;
}

export interface Sessions {
  issueLoginCode(): { code: string; expiresAt: number };
  /** The session a login code opens, once: the code is gone after this, used or not. */
  redeem(code: string): Session | null;
  find(id: string | undefined): Session | null;
}

const secret = () => randomBytes(32).toString("base64url");

export function createSessions(now: () => number = Date.now): Sessions {
  const codes = new Map<string, number>();
  const sessions = new Map<string, Session>();
  const sweep = () => {
    const at = now();
    for (const [code, expiresAt] of codes) if (expiresAt <= at) codes.delete(code);
    for (const [id, session] of sessions) if (session.expiresAt <= at) sessions.delete(id);
  };
  return {
    issueLoginCode() {
      sweep();
      if (codes.size >= MAX_PENDING_CODES) codes.delete(codes.keys().next().value!);
      const code = secret();
      const expiresAt = now() + LOGIN_CODE_TTL_MS;
      codes.set(code, expiresAt);
      return { code, expiresAt };
    },
    redeem(code) {
      const expiresAt = codes.get(code);
      codes.delete(code);
      if (expiresAt === undefined || expiresAt <= now()) return null;
      sweep();
      const session: Session = { id: secret(), csrf: secret(), expiresAt: now() + SESSION_TTL_MS };
      sessions.set(session.id, session);
      return session;
    },
    find(id) {
      if (!id) return null;
      const session = sessions.get(id);
      if (!session) return null;
      if (session.expiresAt <= now()) {
        sessions.delete(id);
        return null;
      }
      return session;
    },
  };
}
