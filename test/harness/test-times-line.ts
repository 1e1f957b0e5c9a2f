/** What the test-times reporter (test/harness/test-times.ts) writes, and where: shared with the runner. */

/** One line of the times file: a test or suite that ended. */
export interface TestTime {
  file: string;
  nesting: number;
  suite: boolean;
  passed: boolean;
  seconds: number;
}

/** The environment variable naming the times file. */
export const TEST_TIMES_ENV = 'OPENEO_TEMPORAL_TEST_TIMES';
