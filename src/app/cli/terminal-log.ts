/**
 * The worker's log in a terminal: one line per entry. The SDK's own format prints every failed
 * activity and workflow with its whole stack and metadata, some thirty lines each, so a batch
 * the worker refuses (a bad tile file, a refused login) buried its one-line reason. Here an
 * entry reads `[WARN] Workflow failed: batchWorkflow b1: InvalidBatchSpec: tiles.file: …`.
 * At DEBUG and TRACE the SDK's full format comes back, stacks included.
 */
import type { LogEntry, LogMetadata } from '@temporalio/worker';

/** Metadata that says nothing to a person reading the log. */
const NOISE = new Set([
  'sdkComponent',
  'taskQueue',
  'namespace',
  'taskToken',
  'runId',
  'workflowRunId',
  'isLocal',
  'durationMs',
  'activityId',
  'error',
]);

/**
 * The innermost reason of an error: an activity's or child's failure arrives wrapped. Matched by
 * name, not class: failures logged from workflow code come from the workflow bundle's own copy
 * of the SDK's classes.
 */
export function errorSummary(err: unknown): string {
  let reason = err;
  while (
    reason instanceof Error &&
    reason.name !== 'ApplicationFailure' &&
    reason.name.endsWith('Failure') &&
    reason.cause
  )
    reason = reason.cause;
  if (!(reason instanceof Error)) return String(reason);
  const type = reason.name === 'ApplicationFailure' ? (reason as Error & { type?: string }).type : reason.name;
  // A workflow's failure reaches the log copied out of the workflow's sandbox: a plain Error
  // without its type. The message is the reason; the activity's line before it has the code.
  return type && type !== 'Error' ? `${type}: ${reason.message}` : reason.message;
}

/** What is failing where: `batchWorkflow b1`, `prepareBatch (attempt 1) of b1`. */
function subject(meta: LogMetadata): string | undefined {
  const { workflowType, workflowId, activityType, attempt } = meta as Record<string, unknown>;
  if (activityType)
    return `${String(activityType)}${attempt ? ` (attempt ${String(attempt)})` : ''} of ${String(workflowId ?? '?')}`;
  if (workflowType || workflowId) return [workflowType, workflowId].filter(Boolean).map(String).join(' ');
  return undefined;
}

function value(v: unknown): string {
  return typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
}

/** One log entry as one line. */
export function formatLogLine(entry: LogEntry): string {
  const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  const meta = entry.meta ?? {};
  const parts = [subject(meta), 'error' in meta ? errorSummary(meta.error) : undefined].filter(Boolean);
  const context = ['workflowType', 'workflowId', 'activityType', 'attempt'];
  const rest = Object.entries(meta).filter(([key]) => !NOISE.has(key) && !context.includes(key));
  const extra = rest.length > 0 ? ` (${rest.map(([k, v]) => `${k}=${value(v)}`).join(', ')})` : '';
  // A message may itself span lines (an invalid spec lists its problems); a log line must not.
  return `${time} [${entry.level}] ${[entry.message, ...parts].join(': ')}${extra}`.replace(/\s*\n\s*/g, ' ');
}

/** A log function for `DefaultLogger`: one line per entry, to stderr. */
export function terminalLogFunction(entry: LogEntry): void {
  process.stderr.write(`${formatLogLine(entry)}\n`);
}
