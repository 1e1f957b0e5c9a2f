/** Test output shows warnings and errors from the Temporal SDK, not its routine state changes. */
import { DefaultLogger, Runtime } from '@temporalio/worker';

Runtime.install({ logger: new DefaultLogger('WARN') });
