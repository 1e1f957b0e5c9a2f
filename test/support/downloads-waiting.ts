/** Seeing a batch wait out an outage: its tiles' downloads retrying on the failure it causes. */
import { tileWorkflowId } from '../../src/core/ids';
import { eventually } from './eventually';
import type { Harness } from './harness';

/** Waits until every tile's `downloadResults` is retrying with a last failure that matches `reason`. */
export async function downloadsWaitingOn(
  h: Harness,
  batchId: string,
  tileIds: string[],
  reason: RegExp,
  what: string,
  ms = 180_000,
): Promise<void> {
  const waiting = async (tileId: string) => {
    const { raw } = await h.temporal.workflow.getHandle(tileWorkflowId(batchId, tileId)).describe();
    return (raw.pendingActivities ?? []).some(
      (a) => a.activityType?.name === 'downloadResults' && reason.test(a.lastFailure?.message ?? ''),
    );
  };
  await eventually(
    async () => (await Promise.all(tileIds.map(waiting))).every(Boolean),
    `every download waiting for ${what}`,
    ms,
  );
}
