/** `run replay`: one line per event — sequence, time since the first event, type, key facts. */
export interface TimelineEvent {
  seq: number;
  type: string;
  at: number;
  [fact: string]: unknown;
}

const HIDDEN = new Set(["seq", "type", "at", "wakeAt", "timeoutAt"]);

export function renderTimeline(events: readonly TimelineEvent[]): string {
  const start = events[0]?.at ?? 0;
  return events
    .map((event) => {
      const facts = Object.entries(event)
        .filter(([key]) => !HIDDEN.has(key))
        .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
        .join(" ");
      return `${String(event.seq).padStart(4)}  +${String(event.at - start).padStart(6)}ms  ${event.type.padEnd(20)} ${facts}`.trimEnd();
    })
    .join("\n");
}
