/**
 * The smallest string above every string that starts with `prefix` (its last character plus one),
 * so a key range covers all keys under the prefix, whatever characters follow it.
 */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}
