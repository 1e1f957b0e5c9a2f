/**
 * The spec's `outputDir` and `outputPath` fields: a local folder or `s3://bucket/prefix`, and the
 * template of a tile's files under it, checked at the front door so a bad one never starts a job.
 */
import { z } from 'zod';
import { outputPathProblems } from './output-path';

export { DEFAULT_OUTPUT_PATH } from './output-path';

/** `s3://bucket/prefix` → its parts; undefined for anything else (a local folder). */
export function parseS3Url(outputDir: string): { bucket: string; prefix: string } | undefined {
  const match = /^s3:\/\/([^/]*)\/?(.*)$/i.exec(outputDir);
  if (!match) return undefined;
  return { bucket: match[1]!, prefix: match[2]!.replace(/\/+$/, '') };
}

/** Why an `s3://` outputDir cannot be used, or undefined when it can. */
export function s3UrlProblem(outputDir: string): string | undefined {
  const parsed = parseS3Url(outputDir);
  if (!parsed) return undefined;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(parsed.bucket)) {
    return `"${parsed.bucket}" is not a bucket name (3–63 lower-case letters, digits, "." or "-"); write s3://<bucket>/<prefix>, e.g. s3://my-results/batches`;
  }
  if (parsed.prefix.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    return `the prefix "${parsed.prefix}" has an empty, "." or ".." folder; write s3://<bucket>/<prefix>, e.g. s3://my-results/batches`;
  }
  return undefined;
}

export const outputDirSchema = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    const problem = s3UrlProblem(value);
    if (problem)
      ctx.addIssue({
        code: 'custom',
        message: problem,
        params: { fix: 'give the bucket and an optional prefix: s3://<bucket>/<prefix>' },
      });
  });

/** Adds the problems of `outputPath` to the spec's issues. `periods` is read tolerantly. */
export function checkOutputPath(spec: { outputPath: string }, ctx: z.RefinementCtx): void {
  const hasPeriods = (spec as { periods?: unknown }).periods !== undefined;
  for (const { problem, fix } of outputPathProblems(spec.outputPath, hasPeriods)) {
    ctx.addIssue({ code: 'custom', path: ['outputPath'], message: problem, params: { fix } });
  }
}
