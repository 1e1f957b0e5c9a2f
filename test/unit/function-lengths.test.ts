/**
 * Short functions, checked on the sources: every function in the workflow code and in the map
 * page's scripts fits in 60 lines. Workflow code is replayed against old histories, so its steps
 * must be readable one at a time; a long workflow function hides which command comes when.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import test from 'node:test';
import ts from 'typescript';

// The compiled test runs from dist/test/unit: the repository is three levels up.
const ROOT = resolve(__dirname, '..', '..', '..');
const MOST_LINES = 60;

/** One function of a source file: where it starts, how many lines it spans. */
interface FunctionSpan {
  file: string;
  name: string;
  line: number;
  lines: number;
}

/** The name a reader would look for: the function's own, else what it is assigned or passed to. */
function nameOf(node: ts.FunctionLikeDeclaration, source: ts.SourceFile): string {
  if (node.name) return node.name.getText(source);
  const parent = node.parent;
  const assigned =
    ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent);
  if (assigned && parent.name) return parent.name.getText(source);
  if (ts.isCallExpression(parent)) return `(function passed to ${parent.expression.getText(source).slice(0, 40)})`;
  return '(anonymous function)';
}

/**
 * A script's wrapper, `(function () { … })();` as a statement of the file: the map page's
 * scripts keep their names out of the page's globals this way. It is the file's scope, not a
 * step of the program, so the file's own length is not held against it.
 */
function isScriptWrapper(node: ts.Node): boolean {
  const call = node.parent?.parent;
  return (
    ts.isFunctionExpression(node) &&
    ts.isParenthesizedExpression(node.parent) &&
    call !== undefined &&
    ts.isCallExpression(call) &&
    ts.isExpressionStatement(call.parent) &&
    ts.isSourceFile(call.parent.parent)
  );
}

/** Every function declaration, function expression, arrow function, method and accessor of a file. */
function functionSpans(file: string, kind: ts.ScriptKind): FunctionSpan[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true, kind);
  const spans: FunctionSpan[] = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isFunctionDeclaration(node) ||
        ts.isFunctionExpression(node) ||
        ts.isArrowFunction(node) ||
        ts.isMethodDeclaration(node) ||
        ts.isConstructorDeclaration(node) ||
        ts.isAccessor(node)) &&
      node.body &&
      !isScriptWrapper(node)
    ) {
      // From the line the declaration starts on (after its doc comment) to its closing brace.
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      spans.push({ file: relative(ROOT, file), name: nameOf(node, source), line: first + 1, lines: last - first + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return spans;
}

/** The files of a folder that end in `extension`, with their full paths. */
function filesIn(folder: string, extension: string): string[] {
  return readdirSync(join(ROOT, folder))
    .filter((name) => name.endsWith(extension) && !name.endsWith('.d.ts'))
    .map((name) => join(ROOT, folder, name));
}

/** The functions longer than the limit, each named with its file and line. */
function tooLong(spans: FunctionSpan[]): string[] {
  return spans.filter((s) => s.lines > MOST_LINES).map((s) => `${s.file}:${s.line} ${s.name} is ${s.lines} lines`);
}

test(`every function in workflows/ is at most ${MOST_LINES} lines`, () => {
  const files = filesIn('workflows', '.ts');
  assert.ok(files.length > 10, 'the workflow code has its files');
  const spans = files.flatMap((file) => functionSpans(file, ts.ScriptKind.TS));
  assert.ok(spans.length > 50, 'the workflow code has its functions');
  assert.deepEqual(tooLong(spans), [], `functions over ${MOST_LINES} lines: split them into named steps`);
});

test(`every function in the map page's scripts is at most ${MOST_LINES} lines`, () => {
  const files = filesIn(join('src', 'app', 'dashboard', 'static'), '.js');
  assert.ok(files.length >= 3, "the map page's scripts are there");
  const spans = files.flatMap((file) => functionSpans(file, ts.ScriptKind.JS));
  assert.ok(spans.length > 10, "the map page's scripts have their functions");
  assert.deepEqual(tooLong(spans), [], `functions over ${MOST_LINES} lines: split them into named steps`);
});
