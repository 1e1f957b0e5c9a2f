/**
 * Hooks on another task queue: a job factory or post-processor that is an activity of a worker
 * written with any Temporal SDK (the project's Python package, say), named in the spec as
 * `{ "activity": "s1s2", "taskQueue": "openeo-python" }`. The contract's shapes are in
 * `contract.ts` (zod, published as JSON Schema); this module holds what workflow code needs:
 * plain types and pure checks, free of zod.
 */
import { MAX_POSTPROCESS_RESULT_BYTES, type PostprocessOutcome } from './postprocess';

/** A hook that is an activity on another task queue. */
export interface RemoteHook {
  /** The activity's name, as its worker registers it. */
  activity: string;
  /** The task queue its worker polls. */
  taskQueue: string;
}

/**
 * How a spec names a hook: a TypeScript function registered in this worker by name, or an
 * activity on another task queue.
 */
export type HookName = string | RemoteHook;

/** The contract's version: requests carry it, the probe answers it. */
export const HOOK_CONTRACT_VERSION = 1;

/** The probe every hook worker registers: which hooks it has (see {@link DescribeHooksAnswer}). */
export const DESCRIBE_HOOKS_ACTIVITY = 'openeo_temporal.describe_hooks';

/** The probe's answer: the hooks a worker of the queue registered. */
export interface DescribeHooksAnswer {
  /** The contract the worker speaks. */
  contractVersion: number;
  /** Activity names of its job factories. */
  jobFactories: string[];
  /** Activity names of its post-processors. */
  postprocessors: string[];
  /** Free text naming the worker, for messages. */
  worker?: string;
}

/** True for a hook on another task queue. */
export function isRemoteHook(hook: HookName | undefined): hook is RemoteHook {
  return typeof hook === 'object' && hook !== null;
}

/** The hook as messages name it: `s1s2`, or `s1s2 on task queue openeo-python`. */
export function hookLabel(hook: HookName): string {
  return isRemoteHook(hook) ? `${hook.activity} on task queue ${hook.taskQueue}` : hook;
}

/** A file name a hook may write into a tile's folder: plain, not hidden, no folders. */
export function isPlainFileName(name: string): boolean {
  return /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(name);
}

/** Thrown for a post-processor's answer the record cannot take; the message says why. */
export class InvalidPostprocessAnswerError extends Error {
  override name = 'InvalidPostprocessAnswerError';
}

/**
 * A remote post-processor's answer, checked: `written` plain file names, `result` JSON small
 * enough for a record. Pure, so the workflow checks what another language sent.
 */
export function checkPostprocessAnswer(answer: unknown): PostprocessOutcome {
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer))
    throw new InvalidPostprocessAnswerError('answer an object: { "written": [file names], "result"?: JSON }');
  const { written = [], result } = answer as { written?: unknown; result?: unknown };
  if (!Array.isArray(written) || !written.every((name) => typeof name === 'string'))
    throw new InvalidPostprocessAnswerError('"written" must be a list of file names');
  const unsafe = written.find((name: string) => !isPlainFileName(name));
  if (unsafe !== undefined)
    throw new InvalidPostprocessAnswerError(
      `"written" names "${unsafe}": use plain file names of letters, digits, ".", "_" or "-" (no folders, not starting with ".")`,
    );
  if (result === undefined || result === null) return { written: [...new Set(written as string[])] };
  const bytes = utf8Length(JSON.stringify(result));
  if (bytes > MAX_POSTPROCESS_RESULT_BYTES)
    throw new InvalidPostprocessAnswerError(
      `"result" is ${bytes} bytes, more than the ${MAX_POSTPROCESS_RESULT_BYTES} a tile record keeps: write large outputs as files and return a summary`,
    );
  return { written: [...new Set(written as string[])], result };
}

/** UTF-8 length of a string without Buffer or TextEncoder (neither is in every workflow sandbox). */
function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Where a file of a tile's folder is, for a hook on another worker: a path, or an `s3://` URL. */
export function tileFileLocation(tileDir: string, name: string): string {
  return `${tileDir.replace(/\/+$/, '')}/${name}`;
}
