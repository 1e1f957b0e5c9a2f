/**
 * A node:test reporter that notes, for the test runner (test/harness/test-run.ts), each test's file,
 * depth, outcome and duration: one JSON line per test, appended to the file named by
 * `OPENEO_TEMPORAL_TEST_TIMES` as it ends. Written synchronously because `--test-force-exit`
 * ends the run before a reporter's stream would be flushed.
 */
import { appendFileSync } from 'node:fs';
import type { TestEvent } from 'node:test/reporters';
import { TEST_TIMES_ENV, type TestTime } from './test-times-line';

// eslint-disable-next-line require-yield -- its output is the times file, written synchronously, not the stream
async function* testTimes(source: AsyncIterable<TestEvent>): AsyncGenerator<string, void> {
  const path = process.env[TEST_TIMES_ENV];
  for await (const event of source) {
    if (!path || (event.type !== 'test:pass' && event.type !== 'test:fail')) continue;
    const time: TestTime = {
      file: event.data.file ?? '(unknown file)',
      nesting: event.data.nesting,
      suite: (event.data.details as { type?: string }).type === 'suite',
      passed: event.type === 'test:pass',
      seconds: event.data.details.duration_ms / 1000,
    };
    appendFileSync(path, `${JSON.stringify(time)}\n`);
  }
}

// node:test takes a CommonJS reporter from `module.exports` itself, not from its `default`.
export = testTimes;
