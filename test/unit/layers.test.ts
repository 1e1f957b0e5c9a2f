/**
 * The project's layers, checked on the sources: the workflow bundle reaches no Node built-in and
 * no package but Temporal's workflow SDK, the library's entry point leaves the tools out, and
 * the published package holds the library, not the tests. (ESLint checks each import; this
 * follows them through every file they reach.)
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import test from 'node:test';
import ts from 'typescript';

const ROOT = resolve(__dirname, '..', '..', '..');

/** Modules a file imports for their values (type-only imports and exports are left out). */
function valueImports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022);
  const found: string[] = [];
  for (const node of source.statements) {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const typeOnly =
        clause?.isTypeOnly ||
        (clause &&
          !clause.name &&
          clause.namedBindings &&
          ts.isNamedImports(clause.namedBindings) &&
          clause.namedBindings.elements.every((e) => e.isTypeOnly));
      if (!typeOnly) found.push((node.moduleSpecifier as ts.StringLiteral).text);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && !node.isTypeOnly) {
      found.push((node.moduleSpecifier as ts.StringLiteral).text);
    }
  }
  return found;
}

function resolveLocal(from: string, specifier: string): string {
  const base = resolve(dirname(from), specifier);
  for (const candidate of [`${base}.ts`, join(base, 'index.ts')]) if (existsSync(candidate)) return candidate;
  throw new Error(`${relative(ROOT, from)} imports ${specifier}, which does not exist`);
}

/** Every local file reachable by value imports from `entry`, and the outside modules they import. */
function closure(entry: string): { files: Set<string>; external: Map<string, string> } {
  const files = new Set<string>();
  const external = new Map<string, string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const specifier of valueImports(file)) {
      if (specifier.startsWith('.')) visit(resolveLocal(file, specifier));
      else if (!external.has(specifier)) external.set(specifier, relative(ROOT, file));
    }
  };
  visit(entry);
  return { files, external };
}

test('the workflow bundle reaches no Node built-in and no package but the workflow SDK', () => {
  const { files, external } = closure(join(ROOT, 'workflows', 'index.ts'));
  const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
  const allowed = new Set(['@temporalio/workflow', '@temporalio/common']);
  for (const [module, importer] of external) {
    assert.ok(
      !builtins.has(module) && !module.startsWith('node:'),
      `${importer} brings the Node built-in ${module} into workflow code`,
    );
    assert.ok(allowed.has(module), `${importer} brings the package ${module} into workflow code`);
  }
  const outside = [...files]
    .map((f) => relative(ROOT, f))
    .filter((f) => !f.startsWith('workflows/') && !f.startsWith('src/core/'));
  assert.deepEqual(outside, [], 'workflow code reaches only workflows/ and src/core/');
});

test('core reaches nothing above it', () => {
  const entries = execFileSync('git', ['ls-files', 'src/core/*.ts', 'src/core/**/*.ts'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean);
  assert.ok(entries.length > 10, 'core has its files');
  for (const entry of entries) {
    for (const file of closure(join(ROOT, entry)).files) {
      assert.ok(relative(ROOT, file).startsWith('src/core/'), `${entry} reaches ${relative(ROOT, file)}`);
    }
  }
});

test("the library's entry point leaves the emulator and the dev-server tools out", () => {
  const { files } = closure(join(ROOT, 'src', 'app', 'index.ts'));
  const tools = [...files].map((f) => relative(ROOT, f)).filter((f) => f.startsWith('src/tools/'));
  assert.deepEqual(tools, []);
});

test('the published package holds the library, the tools, the examples and the docs, not tests or the bench', () => {
  const [pack] = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' }),
  ) as { files: { path: string }[] }[];
  const paths = pack.files.map((f) => f.path);
  const top = new Set(
    paths.map((p) =>
      p.startsWith('dist/')
        ? p
            .split('/')
            .slice(0, p.startsWith('dist/src/') ? 3 : 2)
            .join('/')
        : p.split('/')[0],
    ),
  );
  assert.deepEqual(
    [...top].sort(),
    [
      'CHANGELOG.md',
      'README.md',
      'dist/activities',
      'docs',
      'dist/src/app',
      'dist/src/core',
      'dist/src/tools',
      'dist/workflows',
      'examples',
      'package.json',
      'schema',
      'src',
    ].sort(),
  );
  for (const entry of [
    'dist/src/app/index.js',
    'dist/src/app/cli/main.js',
    'dist/workflows/index.js',
    'dist/src/tools/emulator/index.js',
    'dist/src/tools/devserver/index.js',
    'src/tools/emulator/README.md',
    'schema/batch-spec.schema.json',
    'src/app/dashboard/static/index.html',
    'src/app/dashboard/static/dashboard.js',
  ]) {
    assert.ok(paths.includes(entry), `the package has ${entry}`);
  }
  assert.ok(!paths.some((p) => p.endsWith('.map')), 'no source maps (their sources are not shipped)');
  assert.deepEqual(
    paths.filter(
      (p) => p.startsWith('src/') && !p.startsWith('src/app/dashboard/static/') && p !== 'src/tools/emulator/README.md',
    ),
    [],
    'of the sources, only the map page (served as it is)',
  );
});
