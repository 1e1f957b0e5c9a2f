/**
 * Per-request extension point, run before the route handler.
 *
 * The fault injector (faults/injector.ts) is one: it delays requests,
 * answers them with errors, resets connections or truncates response bodies
 * without touching the route handlers. Users may add their own through the
 * `requestHook` option. The default hook does nothing.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What a hook sees about the request it may interfere with. */
export interface RequestHookContext {
  /** The incoming request. */
  readonly req: IncomingMessage;
  /** The raw response; a hook may write to it (then report `handled`) or destroy its socket. */
  readonly res: ServerResponse;
  /** Route key as used in the stats, e.g. `GET /openeo/1.2/jobs/{job_id}`, or `unmatched`. */
  readonly route: string;
  /** Path parameters of the matched route, e.g. `{ job_id: "j-…" }`. */
  readonly params: Readonly<Record<string, string>>;
  /** Identifier also used as `id` in error bodies. */
  readonly requestId: string;
}

/** A fully prepared response, just before it reaches the socket. */
export interface OutgoingResponse {
  /** The HTTP status. */
  status: number;
  /** The response headers. */
  headers: Record<string, string | number>;
  /** The complete body (empty for HEAD and 204 responses). */
  body: Buffer;
}

/** A hook's decision for one request. */
export interface RequestHookOutcome {
  /**
   * `true` when the hook already answered the request or destroyed the
   * connection; the route handler is then skipped.
   */
  handled?: boolean;
  /**
   * Called with the final response before it is written. Return `true` (or
   * the number of body bytes written, for the byte counters) after writing it
   * yourself, e.g. a truncated body followed by a socket reset; return
   * `false`/nothing to let the server write it unchanged.
   */
  beforeSend?: (response: OutgoingResponse, res: ServerResponse) => boolean | number | void;
}

/** Runs before every route handler (including admin and unmatched routes). */
export interface RequestHook {
  /**
   * Looks at a request before its route handler does: may answer it, break it, or ask to see the
   * response before it is written.
   */
  beforeRoute(context: RequestHookContext): RequestHookOutcome | void | Promise<RequestHookOutcome | void>;
}

/** The default: never interferes. */
export const NOOP_REQUEST_HOOK: RequestHook = {
  beforeRoute: () => undefined,
};

/**
 * Runs hooks in order until one handles the request. The first `beforeSend`
 * offered wins, so an earlier hook's body fault is not overridden.
 */
export function composeHooks(hooks: ReadonlyArray<RequestHook | undefined>): RequestHook {
  const present = hooks.filter((hook): hook is RequestHook => hook !== undefined);
  if (present.length === 0) return NOOP_REQUEST_HOOK;
  if (present.length === 1) return present[0];
  return {
    async beforeRoute(context) {
      let beforeSend: RequestHookOutcome['beforeSend'];
      for (const hook of present) {
        const outcome = await hook.beforeRoute(context);
        if (outcome?.handled) return outcome;
        beforeSend ??= outcome?.beforeSend;
      }
      return beforeSend ? { beforeSend } : undefined;
    },
  };
}
