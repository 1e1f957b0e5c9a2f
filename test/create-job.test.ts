/**
 * The createJob activity against the emulator over HTTP: a retried create finds the job an
 * earlier attempt made, and when a late create lands beside its own, only one job remains.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createJobActivities } from '../activities/openeo-jobs';
import { OpenEOConnections } from '../core/openeo/connections';
import { startEmulator, type RunningEmulator } from '../tools/emulator';
import type { RequestHookContext } from '../tools/emulator/hooks';
import { EMULATOR_USER } from './support/harness';

const graph = { load: { process_id: 'load_collection', arguments: { id: 'SENTINEL2_L2A' }, result: true } };

/** Creates a job over raw HTTP, as a create request that arrived late would. */
async function createDirectly(emulator: RunningEmulator, title: string): Promise<string> {
  const login = await fetch(`${emulator.url}/openeo/1.2/credentials/basic`, {
    headers: { Authorization: `Basic ${Buffer.from(`${EMULATOR_USER.username}:${EMULATOR_USER.password}`).toString('base64')}` },
  });
  const { access_token: token } = (await login.json()) as { access_token: string };
  const created = await fetch(`${emulator.url}/openeo/1.2/jobs`, {
    method: 'POST',
    headers: { Authorization: `Bearer basic//${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ title, process: { process_graph: graph } }),
  });
  assert.equal(created.status, 201);
  return created.headers.get('openeo-identifier')!;
}

describe('createJob never leaves two jobs for one tile attempt', () => {
  let emulator: RunningEmulator;
  let lateJob: string | undefined;
  let injectLateCreate = false;
  before(async () => {
    emulator = await startEmulator({
      users: [EMULATOR_USER],
      requestHook: {
        // Just before the activity's own create is handled, an earlier create "arrives late".
        async beforeRoute(context: RequestHookContext) {
          if (injectLateCreate && context.req.method === 'POST' && context.route === 'POST /openeo/1.2/jobs') {
            injectLateCreate = false;
            lateJob = await createDirectly(emulator, 'batch/tile-1 attempt 1');
          }
        },
      },
    });
  });
  after(async () => emulator?.close());

  const activities = () =>
    createJobActivities(new OpenEOConnections({ emulator: { url: emulator.url, auth: { type: 'basic', ...EMULATOR_USER } } }));
  const input = (title: string) => ({ backend: { name: 'emulator', url: emulator.url }, jobTitle: title, processGraph: graph });

  it('on a retry, returns the job an earlier attempt created instead of creating another', async () => {
    const earlier = await createDirectly(emulator, 'batch/tile-0 attempt 1');
    const id = await new MockActivityEnvironment({ attempt: 2 }).run(activities().createJob, input('batch/tile-0 attempt 1'));
    assert.equal(id, earlier);
    assert.equal(emulator.admin.jobs().filter((j) => j.title === 'batch/tile-0 attempt 1').length, 1);
  });

  it('on a retry, keeps the oldest job when a late create lands beside its own, and deletes the other', async () => {
    injectLateCreate = true;
    const id = await new MockActivityEnvironment({ attempt: 2 }).run(activities().createJob, input('batch/tile-1 attempt 1'));
    assert.ok(lateJob);
    assert.equal(id, lateJob, 'the older job is kept');
    assert.deepEqual(emulator.admin.jobs().filter((j) => j.title === 'batch/tile-1 attempt 1').map((j) => j.id), [lateJob]);
  });
});
