// Lint: typescript-eslint's recommended rules, promises that are awaited or handled, and the
// project's layers (see docs/architecture.md): each folder imports only from the
// layers beneath it, and workflow code never reaches Node or the network.
import js from '@eslint/js';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

/** A restricted-imports rule for the given groups of forbidden paths. */
function forbid(...groups) {
  return ['error', { patterns: groups.map(([group, message, extra = {}]) => ({ group, message, ...extra })) }];
}

const upward = (layer, ...above) => [
  above.flatMap((name) => [`**/${name}`, `**/${name}/**`]),
  `${layer} may not import from ${above.join(', ')}: the layers only import downwards`,
];
const NODE_BUILTINS = [...builtinModules, ...builtinModules.map((m) => `node:${m}`), 'node:*'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'output/**', '.openeo-temporal/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's test() and describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  { files: ['**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  // The map page's scripts: plain browser JS (no build step), Leaflet as the global L.
  {
    files: ['src/app/dashboard/static/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'script',
      globals: Object.fromEntries(
        [
          'window',
          'document',
          'location',
          'performance',
          'requestAnimationFrame',
          'fetch',
          'EventSource',
          'URLSearchParams',
          'Node',
          'L',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  {
    files: ['src/core/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': forbid(upward('core', 'workflows', 'activities', 'app', 'tools')),
    },
  },
  {
    files: ['workflows/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': forbid(
        upward('workflows', 'app', 'tools'),
        // Activities run on the worker; workflows only know their types.
        [
          ['**/activities', '**/activities/**'],
          'workflows import activities as types only (import type …)',
          { allowTypeImports: true },
        ],
        [NODE_BUILTINS, 'workflow code is deterministic and sandboxed: no Node built-ins (do I/O in an activity)'],
        [
          ['@temporalio/activity', '@temporalio/worker', '@temporalio/client'],
          'workflow code uses @temporalio/workflow (and @temporalio/common) only',
        ],
      ),
    },
  },
  {
    files: ['activities/**'],
    rules: { '@typescript-eslint/no-restricted-imports': forbid(upward('activities', 'workflows', 'app', 'tools')) },
  },
  // The library's entry points stay free of the tools; only the command line uses them.
  {
    files: ['src/app/**'],
    ignores: ['src/app/cli/**'],
    rules: { '@typescript-eslint/no-restricted-imports': forbid(upward('the library (src/app/)', 'tools')) },
  },
  {
    files: ['src/tools/**'],
    rules: { '@typescript-eslint/no-restricted-imports': forbid(upward('tools', 'workflows', 'activities', 'app')) },
  },
  {
    files: ['test/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': forbid([
        ['**/bench', '**/bench/**'],
        'tests do not import the bench: shared code lives in test/harness/',
      ]),
    },
  },
  {
    files: ['bench/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': forbid([
        ['**/test/unit/**', '**/test/integration/**', '**/test/soak/**', '**/test/support/**'],
        'the bench does not import tests: shared code lives in test/harness/',
      ]),
    },
  },
);
