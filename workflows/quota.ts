/**
 * One backend's quotas, held for every worker of the deployment: a workflow per backend URL
 * (`openeo-quota/<url>`) that hands out leases, one per openEO HTTP request. Workers start it on
 * demand (update-with-start), so nobody has to run it beforehand.
 *
 * Handlers answer at once (granted, or "ask again in N ms") and never wait, so the workflow can
 * continue as new at any time and an idle one can simply end; the next request starts it again.
 * Its input and history hold lease ids, kinds, limits and times: never a URL with a token or a
 * credential.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  QuotaLedger,
  leaseRequestProblem,
  type LeaseAnswer,
  type LeaseRequest,
  type QuotaState,
} from '../src/core/quota/ledger';
import { ACQUIRE_LEASE_UPDATE, QUOTA_VIEW_QUERY, RELEASE_LEASE_SIGNAL } from '../src/core/quota/limits';

export const acquireLease = defineUpdate<LeaseAnswer, [LeaseRequest]>(ACQUIRE_LEASE_UPDATE);
export const releaseLease = defineSignal<[string]>(RELEASE_LEASE_SIGNAL);
export const quotaView = defineQuery<ReturnType<QuotaLedger['view']>>(QUOTA_VIEW_QUERY);

export interface QuotaWorkflowInput {
  /** The backend whose quotas this is (also in the workflow id); shown in the UI. */
  backendUrl: string;
  /** The previous run's ledger, after continue-as-new. */
  state?: QuotaState;
  /**
   * Continue as new after this many history events: every lease costs about nine.
   * @default 4000
   */
  maxEventsPerRun?: number;
  /**
   * End after this long without a lease request or release, once nothing is out and no
   * window holds a request any more.
   * @default 300_000
   */
  idleEndMs?: number;
}

/** Holds one backend's leases until it is idle; see the module comment. */
export async function quotaWorkflow(input: QuotaWorkflowInput): Promise<void> {
  const ledger = new QuotaLedger(input.state);
  const maxEvents = input.maxEventsPerRun ?? 4_000;
  let touched = 0;
  setHandler(
    acquireLease,
    (request) => {
      touched += 1;
      return ledger.acquire(request, Date.now());
    },
    {
      validator: (request) => {
        // A malformed request is refused before it reaches history.
        const problem = leaseRequestProblem(request);
        if (problem) throw new Error(`invalid lease request: ${problem}`);
      },
    },
  );
  setHandler(releaseLease, (leaseId) => {
    touched += 1;
    ledger.release(leaseId, Date.now());
  });
  setHandler(quotaView, () => ledger.view(Date.now()));

  const historyIsLong = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= maxEvents;
  for (;;) {
    const seen = touched;
    if (await condition(historyIsLong, input.idleEndMs ?? 300_000)) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof quotaWorkflow>({ ...input, state: ledger.toState(Date.now()) });
    }
    if (touched === seen && ledger.isIdle(Date.now())) return;
  }
}
