/** Shows any value in an error message without throwing (objects without a prototype cannot be String()ed). */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  return safeString(value);
}

/** Like String(value), but never throws (a Proxy whose every trap throws included). */
export function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    try {
      return Object.prototype.toString.call(value);
    } catch {
      return `[${typeof value} that cannot be shown]`;
    }
  }
}
