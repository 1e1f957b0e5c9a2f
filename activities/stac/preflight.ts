/**
 * Before the first job: the spec's STAC API must answer and offer the Transactions extension,
 * or the batch is refused with `stac.api.url` named. A host that does not answer gets a few
 * tries (it may be starting); a landing page without transactions is refused at once.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { isLastAttemptOfRound } from '../../src/core/batch-call-rounds';
import type { SpecErrorDetails } from '../../src/core/batch-spec/errors';
import { InvalidSpecError } from '../../src/core/batch-spec/validate';
import { HttpError } from '../../src/core/http/request';
import { StacApiClient } from './api';

const FIELD = 'stac.api.url';

/** Why the STAC API at `url` cannot take this batch's pushes, or undefined when it can. */
export async function stacApiProblem(url: string): Promise<{ problem: string; retryable: boolean } | undefined> {
  try {
    const problem = await new StacApiClient(url).transactionProblem();
    return problem === undefined ? undefined : { problem: `the STAC API at ${url}: ${problem}`, retryable: false };
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    return { problem: `${err.message}; check the URL and that the STAC API is up`, retryable: err.transient };
  }
}

function issueOf(problem: string): SpecErrorDetails {
  return {
    field: FIELD,
    problem,
    fix: 'give the landing page of a STAC API with the Transactions extension, or leave out stac.api',
    code: 'stac_api_unusable',
  };
}

/** The spec problem of an unusable STAC API (for the client's checks before start), or undefined. */
export async function stacApiIssue(url: string): Promise<SpecErrorDetails | undefined> {
  const found = await stacApiProblem(url);
  return found ? issueOf(found.problem) : undefined;
}

/** Fails the activity when the spec's STAC API cannot be used; retried while it may come up. */
export async function checkStacApi(url: string): Promise<void> {
  const found = await stacApiProblem(url);
  if (!found) return;
  if (found.retryable && !isLastAttemptOfRound(Context.current().info.attempt)) {
    throw ApplicationFailure.create({ message: `${FIELD}: ${found.problem}`, type: 'StacApiUnreachable' });
  }
  const err = new InvalidSpecError([issueOf(found.problem)]);
  throw ApplicationFailure.nonRetryable(err.message, err.code, { issues: err.issues });
}
