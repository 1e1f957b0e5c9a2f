/** The workflows a worker registers: deterministic code only, no I/O (see activities/). */
export { batchWorkflow } from './batch';
export { tileWorkflow } from './tile';
