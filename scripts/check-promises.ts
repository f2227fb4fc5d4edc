/**
 * `bun run check-promises`: no promise in src/ is dropped by accident. With the store behind an
 * asynchronous boundary, a store write that is not awaited lands outside its transaction (on
 * PostgreSQL) or loses its error (on SQLite), and the compiler says nothing about it.
 *
 * It asks the type checker (TypeScript 5's API, the `typescript-api` dev dependency: TypeScript 7,
 * which type-checks the project, has no stable API to call yet) and refuses:
 * - an expression statement whose value is a promise — a call, `a && f()`, `c ? f() : g()` — unless
 *   it is marked `void` (fire and forget, on purpose) or ends in `.then`/`.catch`/`.finally`;
 * - an async function (or one returning a promise) passed where a function returning nothing is
 *   expected (`forEach(async …)`, `tx.after(async …)`): whatever it does happens unwatched;
 * - a promise used as a condition (`if (store.getWakePending(id))`), which is always true.
 */
import ts from "typescript-api";
import { dirname, join, relative } from "node:path";

const ROOT = join(import.meta.dir, "..");

function isThenable(type: ts.Type): boolean {
  if (type.isUnion()) return type.types.some(isThenable);
  return type.getProperty("then") !== undefined;
}

const returnsThenable = (type: ts.Type): boolean => type.getCallSignatures().some((signature) => isThenable(signature.getReturnType()));

/** Whether every signature of `type` returns void (a callback whose result nobody looks at). */
function returnsVoid(type: ts.Type): boolean {
  const signatures = type.getCallSignatures();
  return (
    signatures.length > 0 &&
    signatures.every((signature) => {
      const result = signature.getReturnType();
      const isVoid = (t: ts.Type) => (t.flags & (ts.TypeFlags.Void | ts.TypeFlags.Undefined)) !== 0;
      return isVoid(result) || (result.isUnion() && result.types.every(isVoid));
    })
  );
}

/** The expressions whose promise would be dropped when `node` is evaluated as a statement. */
function droppedValues(node: ts.Expression): ts.Expression[] {
  if (ts.isParenthesizedExpression(node)) return droppedValues(node.expression);
  if (ts.isVoidExpression(node) || ts.isAwaitExpression(node)) return [];
  if (ts.isConditionalExpression(node)) return [...droppedValues(node.whenTrue), ...droppedValues(node.whenFalse)];
  if (ts.isBinaryExpression(node)) {
    const kind = node.operatorToken.kind;
    if (kind === ts.SyntaxKind.AmpersandAmpersandToken || kind === ts.SyntaxKind.BarBarToken || kind === ts.SyntaxKind.QuestionQuestionToken) return droppedValues(node.right);
    if (kind === ts.SyntaxKind.CommaToken) return [...droppedValues(node.left), ...droppedValues(node.right)];
    return [];
  }
  if (ts.isCallExpression(node)) {
    // `.then(…)`, `.catch(…)`, `.finally(…)`: the promise is handled where it is made.
    if (ts.isPropertyAccessExpression(node.expression) && ["then", "catch", "finally"].includes(node.expression.name.text)) return [];
    return [node];
  }
  if (ts.isNewExpression(node)) return [node];
  return [];
}

/** A promise for sure (not "a promise or nothing", which a condition may well test). */
function isSurelyThenable(type: ts.Type): boolean {
  return type.isUnion() ? type.types.every(isThenable) : isThenable(type);
}

export function floatingPromises(configPath = join(ROOT, "tsconfig.json"), under = join(ROOT, "src")): string[] {
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, dirname(configPath));
  const files = parsed.fileNames.filter((file) => file.startsWith(under));
  const program = ts.createProgram(files, { ...parsed.options, noEmit: true });
  const checker = program.getTypeChecker();
  const found: string[] = [];
  const report = (node: ts.Node, why: string) => {
    const source = node.getSourceFile();
    const { line } = source.getLineAndCharacterOfPosition(node.getStart());
    found.push(`${relative(ROOT, source.fileName)}:${line + 1}: ${why}: ${node.getText().split("\n")[0]!.slice(0, 90)}`);
  };

  for (const source of program.getSourceFiles()) {
    if (!source.fileName.startsWith(under)) continue;
    const visit = (node: ts.Node): void => {
      if (ts.isExpressionStatement(node)) {
        for (const value of droppedValues(node.expression)) {
          if (isThenable(checker.getTypeAtLocation(value))) report(value, "a promise nobody awaits");
        }
      }
      if ((ts.isCallExpression(node) || ts.isNewExpression(node)) && node.arguments) {
        node.arguments.forEach((argument) => {
          if (!ts.isArrowFunction(argument) && !ts.isFunctionExpression(argument) && !ts.isIdentifier(argument) && !ts.isPropertyAccessExpression(argument)) return;
          const given = checker.getTypeAtLocation(argument);
          if (!returnsThenable(given)) return;
          const expected = checker.getContextualType(argument);
          if (expected && returnsVoid(expected)) report(argument, "an async function where a function returning nothing is expected");
        });
      }
      const condition = ts.isIfStatement(node) || ts.isWhileStatement(node) ? node.expression : ts.isConditionalExpression(node) ? node.condition : undefined;
      if (condition && isSurelyThenable(checker.getTypeAtLocation(condition))) {
        report(node, "a promise used as a condition");
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

if (import.meta.main) {
  const found = floatingPromises();
  if (found.length > 0) {
    console.error(`${found.length} dropped promise(s) in src/:\n${found.join("\n")}`);
    process.exit(1);
  }
  console.log("every promise in src/ is awaited, returned, handled or marked void");
}
