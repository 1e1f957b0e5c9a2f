/**
 * Test output shows the Temporal SDK's errors only: the tests inject faults on purpose, and each
 * retried activity failure would otherwise print a warning.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';

Runtime.install({ logger: new DefaultLogger('ERROR') });
