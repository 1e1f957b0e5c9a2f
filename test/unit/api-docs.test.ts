/**
 * The API reference (`npm run docs`) is made from doc comments, so every public export needs one:
 * every function, class, interface, type, constant, method and property reachable from the
 * package's entry points, and every type they name is public too (or listed in typedoc.json as
 * internal on purpose). This runs TypeDoc's conversion and validation with typedoc.json, as
 * `npm run docs` does, but writes no pages.
 */
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import test from 'node:test';

const ROOT = resolve(__dirname, '..', '..', '..');

/**
 * Findings named in a failure message at most: Node 20's test runner loses (or hangs on) a
 * failure message of some tens of kilobytes, and the first hundred say what to do.
 */
const MAX_NAMED = 100;

function listed(findings: string[]): string {
  const hidden = findings.length - MAX_NAMED;
  const more = hidden > 0 ? `\n  … and ${hidden} more (\`npm run docs\` lists them all)` : '';
  return `  ${findings.slice(0, MAX_NAMED).join('\n  ')}${more}`;
}

test('every public export has a doc comment, and the types it names are documented too', async () => {
  // TypeDoc is an ES module: this CommonJS test loads it with a dynamic import.
  const { Application, Logger, LogLevel, TSConfigReader, TypeDocReader } = await import('typedoc');

  /** Keeps TypeDoc's warnings and errors (one finding each) instead of printing them. */
  class Findings extends Logger {
    readonly messages: string[] = [];
    // `number`: TypeDoc's LogLevel enum, whose type a CommonJS file cannot name without an import attribute.
    override log(message: string, level: number): void {
      if (level >= LogLevel.Warn) this.messages.push(message);
    }
  }

  const options = { options: join(ROOT, 'typedoc.json') };
  const app = await Application.bootstrapWithPlugins(options, [new TypeDocReader(), new TSConfigReader()]);
  const findings = new Findings();
  app.logger = findings;
  const project = await app.convert();
  assert.ok(project, `TypeDoc could not read the entry points:\n${listed(findings.messages)}`);
  app.validate(project);
  const problems = findings.messages;
  const heading = `${problems.length} problems with the public API's doc comments (see typedoc.json)`;
  assert.equal(problems.length, 0, `${heading}:\n${listed(problems)}`);
});
