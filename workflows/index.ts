/**
 * The workflows a worker registers: deterministic code only, no I/O (see activities/).
 *
 * @module openeo-temporal/workflows
 */
export { batchWorkflow } from './batch';
export { partitionWorkflow } from './partition';
export { tileWorkflow } from './tile';
export { quotaWorkflow } from './quota';
