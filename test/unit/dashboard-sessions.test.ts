import { expect, test } from "bun:test";
import { createSessions, LOGIN_CODE_TTL_MS, SESSION_TTL_MS } from "../../src/ui/sessions.ts";

test("a login code opens one session, once, and only before it expires; sessions end after their time", () => {
  let now = 0;
  const sessions = createSessions(() => now);
  const { code } = sessions.issueLoginCode();
  const session = sessions.redeem(code)!;
  expect(session.id).not.toBe(session.csrf);
  expect(sessions.find(session.id)).toBe(session);
  expect(sessions.redeem(code)).toBeNull();

  const late = sessions.issueLoginCode().code;
  now += LOGIN_CODE_TTL_MS;
  expect(sessions.redeem(late)).toBeNull();
  expect(sessions.redeem("made-up")).toBeNull();
  expect(sessions.find(undefined)).toBeNull();

  now += SESSION_TTL_MS;
  expect(sessions.find(session.id)).toBeNull();
});
