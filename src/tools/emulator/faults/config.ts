/**
 * The fault-injection configuration: plain JSON, so it can live in a file
 * (`--faults faults.json`), travel over the admin API and be persisted.
 * {@link parseFaultConfig} validates untrusted input against it.
 */
import { z } from 'zod';

/** What happens to a request a rule picked. */
export type FaultAction =
  /** Answer with this HTTP status and an openEO error body (502/504 without `code`: a gateway's HTML page). */
  | {
      /** The kind of fault. */
      type: 'status';
      /** The HTTP status to answer with, 400–599. */
      status: number;
      /** The openEO error code in the body. */
      code?: string;
      /** The error message in the body. */
      message?: string;
      /** Sent as the `Retry-After` header, in seconds. */
      retryAfterSeconds?: number;
    }
  /** Wait this long, then handle the request normally. */
  | {
      /** The kind of fault. */
      type: 'latency';
      /** How long to wait, in milliseconds. */
      ms: number;
    }
  /** Never answer; the connection stays open until the client gives up. */
  | {
      /** The kind of fault. */
      type: 'hang';
    }
  /** Reset the connection (TCP RST) before answering. */
  | {
      /** The kind of fault. */
      type: 'reset';
    }
  /** Send the headers (promising the full length) and `bytes` of the body, then close the connection. */
  | {
      /** The kind of fault. */
      type: 'truncate';
      /** Body bytes sent before the connection closes. */
      bytes?: number;
    }
  /** Send the headers and `bytes` of the body, then reset the connection (TCP RST). */
  | {
      /** The kind of fault. */
      type: 'reset-mid-body';
      /** Body bytes sent before the reset. */
      bytes?: number;
    };

/** Names of the fault types, e.g. for counters. */
export type FaultType = FaultAction['type'];

/** A per-route fault rule. Without `probability`, `everyNth` and `onCalls` it fires on every matching call. */
export interface RouteFaultRule {
  /**
   * Which requests: `*` (all but the admin API), or `METHOD PATH` where the method may
   * be `*`, PATH is a route template relative to the API root (`/jobs/{job_id}`) or
   * absolute (`/.well-known/openeo`, `/openeo/1.2/…`), and `*` in PATH matches anything.
   */
  route: string;
  /** Fire on each matching call with this probability, drawn from the rule's own seeded stream. */
  probability?: number;
  /** Fire on matching calls number N, 2N, 3N, … (counted per rule from 1). */
  everyNth?: number;
  /** Fire on these matching call numbers (counted per rule from 1). */
  onCalls?: number[];
  /** Fire at most this many times. @default unlimited */
  maxTimes?: number;
  /** What happens to a request the rule picks. */
  fault: FaultAction;
}

/** A per-job fault rule, matched on the job title when the job is created. */
export interface JobFaultRule {
  /** Jobs whose title contains this substring (case-sensitive). */
  titleContains: string;
  /** The first N jobs created with a matching title end in `error` (every run); later jobs succeed. */
  failFirst?: number;
  /** Matching jobs never leave this status: `created` (start requests are accepted, nothing happens) or `queued`. */
  stuckIn?: 'queued' | 'created';
  /** openEO code of the error log entry. @default "Internal" */
  code?: string;
  /** Message of the error log entry. @default a sentence naming the rule */
  message?: string;
}

/** Faults of batch jobs. */
export interface JobFaultConfig {
  /** Probability that a run ends in `error`, drawn once per run. @default 0 */
  errorProbability?: number;
  /** @default [] */
  rules?: JobFaultRule[];
}

/**
 * A window in which every request (except the admin API) fails: either
 * `startMs`/`endMs` after the emulator started, or `durationMs` beginning
 * `fromNowMs` after the configuration is applied.
 */
export type OutageConfig =
  | {
      /** When the outage begins, in milliseconds after the emulator started. */
      startMs: number;
      /** When it ends, in milliseconds after the emulator started. */
      endMs: number;
      /** What failing requests get. @default a 503 answer */
      fault?: FaultAction;
    }
  | {
      /** When the outage begins, in milliseconds after the configuration is applied. @default 0 */
      fromNowMs?: number;
      /** How long it lasts, in milliseconds. */
      durationMs: number;
      /** What failing requests get. @default a 503 answer */
      fault?: FaultAction;
    };

/** The complete fault configuration; every part is optional. */
export interface FaultConfig {
  /** Seed of all random draws. @default 1 */
  seed?: number;
  /** Request faults; the first rule that fires wins. @default [] */
  routes?: RouteFaultRule[];
  /** Faults of batch jobs. @default none */
  jobs?: JobFaultConfig;
  /** A window in which every request fails. @default none */
  outage?: OutageConfig;
}

const nonNegative = z.number().finite().min(0);
const positiveInt = z.number().int().min(1);
const probability = z.number().min(0).max(1);

const faultActionSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('status'),
    status: z.number().int().min(400).max(599),
    code: z.string().min(1).optional(),
    message: z.string().optional(),
    retryAfterSeconds: nonNegative.optional(),
  }),
  z.strictObject({ type: z.literal('latency'), ms: nonNegative }),
  z.strictObject({ type: z.literal('hang') }),
  z.strictObject({ type: z.literal('reset') }),
  z.strictObject({ type: z.literal('truncate'), bytes: z.number().int().min(0).optional() }),
  z.strictObject({ type: z.literal('reset-mid-body'), bytes: z.number().int().min(0).optional() }),
]);

const routePattern = z.string().regex(/^(\*|[A-Z*]+ \/\S*)$/, "use '*' or 'METHOD /path', e.g. 'GET /jobs/{job_id}'");

const outageSchema = z.union([
  z
    .strictObject({ startMs: nonNegative, endMs: nonNegative, fault: faultActionSchema.optional() })
    .refine((o) => o.endMs >= o.startMs, 'endMs must not be before startMs'),
  z.strictObject({ fromNowMs: nonNegative.optional(), durationMs: nonNegative, fault: faultActionSchema.optional() }),
]);

const faultConfigSchema = z.strictObject({
  seed: z.number().int().optional(),
  routes: z
    .array(
      z.strictObject({
        route: routePattern,
        probability: probability.optional(),
        everyNth: positiveInt.optional(),
        onCalls: z.array(positiveInt).optional(),
        maxTimes: z.number().int().min(0).optional(),
        fault: faultActionSchema,
      }),
    )
    .optional(),
  jobs: z
    .strictObject({
      errorProbability: probability.optional(),
      rules: z
        .array(
          z
            .strictObject({
              titleContains: z.string().min(1),
              failFirst: z.number().int().min(0).optional(),
              stuckIn: z.enum(['queued', 'created']).optional(),
              code: z.string().min(1).optional(),
              message: z.string().optional(),
            })
            .refine((r) => r.failFirst !== undefined || r.stuckIn !== undefined, 'give failFirst or stuckIn'),
        )
        .optional(),
    })
    .optional(),
  outage: outageSchema.optional(),
});

// Compile-time proof that the schema and the documented interfaces describe the same data.
type Parsed = z.infer<typeof faultConfigSchema>;
const _schemaMatches: [Parsed] extends [FaultConfig] ? ([FaultConfig] extends [Parsed] ? true : never) : never = true;
void _schemaMatches;

/** Invalid fault configuration, with every problem and where it is. */
export class FaultConfigError extends Error {
  /** @param problems - every problem found, each naming its field. */
  constructor(readonly problems: string[]) {
    super(`invalid fault configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'FaultConfigError';
  }
}

/**
 * Validates untrusted input (a parsed JSON file or request body).
 * @throws FaultConfigError naming each problem with its path
 */
export function parseFaultConfig(input: unknown): FaultConfig {
  const result = faultConfigSchema.safeParse(input);
  if (result.success) return result.data;
  throw new FaultConfigError(
    result.error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`),
  );
}
