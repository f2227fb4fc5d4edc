/** The web dashboard (served by the daemon under /ui). */
export { createDashboard, sessionCookieName, type DashboardOptions } from "./app.tsx";
export { createSessions, LOGIN_CODE_TTL_MS, SESSION_TTL_MS, type Sessions } from "./sessions.ts";
export { UI_BASE } from "./layout.tsx";
export { buildTimeline, type Timeline } from "./timeline.ts";
