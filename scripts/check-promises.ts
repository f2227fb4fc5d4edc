/**
 * `bun run check-promises`: no promise in src/ is dropped by accident. With the store's methods
 * asynchronous, a write that is not awaited would land outside its transaction (or never), and the
 * compiler says nothing about an expression statement whose promise goes nowhere.
 *
 * The check is by name, without the type checker (TypeScript 7 has no stable one to call): every
 * function, method or interface member of src/ that is declared `async` or to return a Promise is
 * collected; a statement that starts with a call to one of those names must be awaited, returned,
 * or marked `void` (fire and forget, on purpose). A name that is also a synchronous function
 * elsewhere is left out unless it is only ever asynchronous.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";

const ROOT = join(import.meta.dir, "..");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((path) => /\.tsx?$/.test(path) && !path.endsWith(".d.ts"))
    .map((path) => join(dir, path));
}

const ASYNC_DECLARATIONS = [
  /\bfunction\s+([A-Za-z_$][\w$]*)\s*(?:<[^>]*>)?\([^{]*\)\s*:\s*Promise</g, // function name(…): Promise< (hands back a promise)
  /\basync\s+function\s*\*?\s*([A-Za-z_$][\w$]*)/g, // async function name(
  /\b([A-Za-z_$][\w$]*)\s*[:=]\s*async\b/g, // name: async (…) / name = async (…)
  /^\s*(?:public\s+|private\s+|static\s+)*async\s+([A-Za-z_$][\w$]*)\s*[(<]/gm, // async name( in objects and classes
  /^\s*(?:readonly\s+)?([A-Za-z_$][\w$]*)\??\s*(?:<[^>]*>)?\s*\([^;{]*\)\s*:\s*Promise</gm, // name(…): Promise< in interfaces
];
const SYNC_DECLARATIONS = [
  /\b(?:const|let)\s+([A-Za-z_$][\w$]*)\s*=\s*(?!async\b)(?:<[^>]*>)?\([^)]*\)\s*(?::\s*(?!\s*Promise)[^=]+)?=>/g, // const name = (…) => (not async)
  /(?<!async\s)\bfunction\s+([A-Za-z_$][\w$]*)\s*[(<][^{]*\)\s*(?::\s*(?!\s*Promise)[^{]+)?\{/g, // function name(…) { (not async, not a Promise)
  /^\s*(?:readonly\s+)?([A-Za-z_$][\w$]*)\??\s*(?:<[^>]*>)?\s*\([^;{]*\)\s*:\s*(?!\s*Promise)[^;{]+;/gm, // name(…): T; in interfaces
];

/**
 * What follows the call's closing parenthesis: `name(…): T` or `name(…) {` is a member declared or
 * defined, not a call; `.then(`, `.catch(` or `.finally(` handles the promise.
 */
function isHandledOrDeclared(lines: string[], line: number, openAt: number): boolean {
  let depth = 1;
  for (let l = line, from = openAt; l < Math.min(lines.length, line + 40); l++, from = 0) {
    const text = lines[l]!;
    for (let c = from; c < text.length; c++) {
      if (text[c] === "(") depth++;
      else if (text[c] === ")" && --depth === 0) {
        const rest = `${text.slice(c + 1)} ${lines[l + 1] ?? ""}`;
        return /^\s*[:{]/.test(rest) || /^\s*\.(then|catch|finally)\(/.test(rest);
      }
    }
  }
  return false;
}

/** Receivers whose methods are synchronous whatever their names: bun:sqlite's database and statements, the SQLite store's synchronous statements, Atomics. */
const SYNC_RECEIVERS = /^(db|sync|q(\.[\w$]+)?|Atomics)\.$/;
/** Receivers whose methods all answer with promises: a store (outside `src/store/`) and its `reads`. */
const ASYNC_RECEIVERS = /(^|\.)(store|reads)\.$/;

export function floatingPromises(dir = join(ROOT, "src")): string[] {
  const files = sourceFiles(dir).map((path) => ({ path, text: readFileSync(path, "utf8") }));
  const asyncNames = new Set<string>();
  const syncNames = new Set<string>();
  for (const { path, text } of files) {
    for (const pattern of ASYNC_DECLARATIONS) for (const m of text.matchAll(pattern)) asyncNames.add(m[1]!);
    // The store's synchronous statements are its own business: everywhere else they are async.
    if (!path.includes(`${sep}store${sep}`)) for (const pattern of SYNC_DECLARATIONS) for (const m of text.matchAll(pattern)) syncNames.add(m[1]!);
  }
  for (const name of syncNames) asyncNames.delete(name);
  // `const again = makeReady;`: another name for an asynchronous function is one too.
  for (const { text } of files) for (const m of text.matchAll(/\b(?:const|let)\s+([A-Za-z_$][\w$]*)\s*=\s*([A-Za-z_$][\w$]*)\s*;/g)) if (asyncNames.has(m[2]!)) asyncNames.add(m[1]!);
  // Methods of the built-in collections, called as statements all the time, are never promises.
  for (const builtin of ["add", "set", "get", "delete", "has", "clear", "push", "unshift", "splice", "forEach", "sort", "close"]) asyncNames.delete(builtin);
  for (const keyword of ["if", "for", "while", "switch", "catch", "function", "return", "constructor"]) asyncNames.delete(keyword);

  const found: string[] = [];
  // A statement that starts with a call: `name(`, `a.b.name(`, `this.name(`.
  const statementCall = /^\s*((?:[A-Za-z_$][\w$]*\??\.)*)([A-Za-z_$][\w$]*)\s*(?:<[^>]*>)?\(/;
  // The same after `if (…)`, `else` or a loop header on the same line: `if (x) wake(run);`.
  const guardedCall = /^\s*(?:\}\s*)?(?:else\s+)?(?:(?:if|for|while)\s*\(.*\)\s+|else\s+)((?:[A-Za-z_$][\w$]*\??\.)*)([A-Za-z_$][\w$]*)\s*(?:<[^>]*>)?\(([^()]*(?:\([^()]*\))*[^()]*)\)\s*;\s*$/;
  for (const { path, text } of files) {
    const lines = text.split("\n");
    lines.forEach((line, i) => {
      const insideStore = path.includes(`${sep}store${sep}`);
      const isAsync = (receiver: string, name: string) =>
        (asyncNames.has(name) && !SYNC_RECEIVERS.test(receiver)) || (!insideStore && ASYNC_RECEIVERS.test(receiver));
      const guarded = guardedCall.exec(line);
      if (guarded && isAsync(guarded[1]!, guarded[2]!)) {
        found.push(`${relative(ROOT, path)}:${i + 1}: ${line.trim().slice(0, 110)}`);
        return;
      }
      const match = statementCall.exec(line);
      if (!match || !isAsync(match[1]!, match[2]!)) return;
      // A continuation of the previous line (an argument, a chained call, an arrow's body) is not a statement.
      const previous = lines
        .slice(0, i)
        .reverse()
        .find((l) => l.trim() !== "" && !l.trim().startsWith("//"));
      if (previous !== undefined && !/[;{}]\s*$|^\s*\/\/|\*\/\s*$/.test(previous) && !/^\s*(case .*|default):\s*$/.test(previous)) return;
      if (isHandledOrDeclared(lines, i, match[0]!.length)) return;
      found.push(`${relative(ROOT, path)}:${i + 1}: ${line.trim().slice(0, 110)}`);
    });
  }
  return found;
}

if (import.meta.main) {
  const found = floatingPromises();
  if (found.length > 0) {
    console.error(`${found.length} call(s) whose promise is neither awaited, returned nor marked \`void\`:\n${found.join("\n")}`);
    process.exit(1);
  }
  console.log("every promise in src/ is awaited, returned or marked void");
}
