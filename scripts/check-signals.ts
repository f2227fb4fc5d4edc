/**
 * `bun run check-signals`: every signal sent by src/, test/ and scripts/ goes through
 * src/shared/signal-process.ts, which refuses a pid that is not an integer > 1. A raw
 * `process.kill(0, "SIGSTOP")` — a pid read from an empty file is 0 — stops the whole process
 * group, `bun test` and CI with it; the check keeps such a call from coming back.
 *
 * It asks the type checker (as scripts/check-promises.ts does) which `kill` a call reaches, and
 * refuses a call of a `kill` that Bun's or Node's types declare (`process.kill`, a `Bun.spawn`
 * child's `kill`, a node `ChildProcess`'s), by name or by `obj["kill"]`, outside the helper. A
 * `kill` the project declares itself (a worker's, which ends up in the helper) is fine.
 */
import ts from "typescript-api";
import { dirname, join, relative, sep } from "node:path";

const ROOT = join(import.meta.dir, "..");
const HELPER = join(ROOT, "src", "shared", "signal-process.ts");

function isDeclaredOutsideProject(symbol: ts.Symbol | undefined): boolean {
  const declarations = symbol?.getDeclarations() ?? [];
  return declarations.length > 0 && declarations.every((d) => d.getSourceFile().fileName.includes(`${sep}node_modules${sep}`) || d.getSourceFile().isDeclarationFile);
}

/** The `kill` a call names: `x.kill(…)` or `x["kill"](…)`. */
function killCallee(call: ts.CallExpression): ts.Node | undefined {
  const callee = ts.isParenthesizedExpression(call.expression) ? call.expression.expression : call.expression;
  if (ts.isPropertyAccessExpression(callee) && callee.name.text === "kill") return callee.name;
  if (ts.isElementAccessExpression(callee) && ts.isStringLiteralLike(callee.argumentExpression) && callee.argumentExpression.text === "kill") return callee.argumentExpression;
  return undefined;
}

/** Every raw signal outside the helper, as `file:line: call`, in the files of `configPath` under one of `roots`. */
export function rawSignals(configPath = join(ROOT, "tsconfig.json"), roots = ["src", "test", "scripts"].map((r) => join(ROOT, r)), helper = HELPER): string[] {
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, dirname(configPath));
  const inRoots = (file: string) => roots.some((root) => file.startsWith(root + sep) || file.startsWith(`${root}/`));
  const files = parsed.fileNames.filter(inRoots);
  const program = ts.createProgram(files, { ...parsed.options, noEmit: true });
  const checker = program.getTypeChecker();
  const found: string[] = [];

  for (const source of program.getSourceFiles()) {
    if (source.isDeclarationFile || !inRoots(source.fileName) || source.fileName === helper) continue;
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node)) {
        const name = killCallee(node);
        if (name) {
          // An unresolved `kill` (an `any`) is refused too: nothing says it is not a raw one.
          const symbol = checker.getSymbolAtLocation(name);
          if (symbol === undefined || isDeclaredOutsideProject(symbol)) {
            const { line } = source.getLineAndCharacterOfPosition(node.getStart());
            found.push(`${relative(ROOT, source.fileName)}:${line + 1}: ${node.getText().split("\n")[0]!.slice(0, 90)}`);
          }
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

if (import.meta.main) {
  const found = rawSignals();
  if (found.length > 0) {
    console.error(`${found.length} signal(s) sent around src/shared/signal-process.ts (use signalProcess, signalProcessGroup or signalChild):\n${found.join("\n")}`);
    process.exit(1);
  }
  console.log("every signal in src/, test/ and scripts/ goes through src/shared/signal-process.ts");
}
