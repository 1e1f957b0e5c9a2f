/**
 * A login that stopped working mid-batch (a revoked or expired refresh token) must not fail every
 * tile in flight. The activity fails *retryably* with a long delay, so in-flight tiles wait, and
 * the batch is told once, by signal, to pause the backend with the reason; after
 * `openeo-temporal login` the worker picks up the new refresh token by itself and the waiting
 * tiles carry on.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { BackendRef } from '../src/core/openeo/connections';
import { BACKEND_LOGIN_FAILED_SIGNAL, type BackendLoginFailure } from '../src/core/openeo/login-failure';
import type { BackendLoginError } from '../src/core/openeo/oidc/errors';

/** How long an activity waits before it tries a failed login again. */
export const DEFAULT_LOGIN_RETRY_DELAY_MS = 5 * 60_000;

/** The tile workflow ids look like `<batchId>/tile-<tileId>`: the batch part names who to tell. */
function batchPrefix(workflowId: string): string | undefined {
  const at = workflowId.lastIndexOf('/tile-');
  return at > 0 ? workflowId.slice(0, at) : undefined;
}

export class LoginFailureReporter {
  /** `<batch> <backend>` pairs told already, until the login works again. */
  private readonly told = new Set<string>();

  constructor(private readonly retryDelayMs: number = DEFAULT_LOGIN_RETRY_DELAY_MS) {}

  /** The login works again: a later failure is news for every batch. */
  loginWorks(backend: BackendRef): void {
    for (const key of this.told) if (key.endsWith(` ${backend.name}`)) this.told.delete(key);
  }

  /**
   * Tells the tile's batch (its parent window) once, then returns the failure the activity
   * throws: retryable, after a long delay, so the tile waits for a new login.
   */
  async failed(backend: BackendRef, err: BackendLoginError): Promise<ApplicationFailure> {
    const message = `could not log in to backend "${backend.name}": ${err.message}`;
    await this.tellBatch({ backend: backend.name, reason: err.message }).catch(() => undefined);
    return ApplicationFailure.create({ message, type: err.code, nextRetryDelay: this.retryDelayMs });
  }

  private async tellBatch(failure: BackendLoginFailure): Promise<void> {
    const ctx = Context.current();
    const tileWorkflowId = ctx.info.workflowExecution?.workflowId;
    if (!tileWorkflowId) return;
    const batch = batchPrefix(tileWorkflowId);
    if (!batch) return;
    const key = `${batch} ${failure.backend}`;
    if (this.told.has(key)) return;
    this.told.add(key);
    // The window that runs the tile (the batch, or one of its partitions) is the tile's parent.
    const parent = (await ctx.client.workflow.getHandle(tileWorkflowId).describe()).parentExecution?.workflowId;
    if (parent) await ctx.client.workflow.getHandle(parent).signal(BACKEND_LOGIN_FAILED_SIGNAL, failure);
  }
}

/** The reporter of each worker's connections (one per `createActivities`). */
const reporters = new WeakMap<object, LoginFailureReporter>();

/** Gives a worker's connections their reporter (with the worker's retry delay). */
export function useLoginReporter(connections: object, reporter: LoginFailureReporter): void {
  reporters.set(connections, reporter);
}

export function loginReporterOf(connections: object): LoginFailureReporter {
  let reporter = reporters.get(connections);
  if (!reporter) {
    reporter = new LoginFailureReporter();
    reporters.set(connections, reporter);
  }
  return reporter;
}
