/**
 * The emulator checks `load_collection`'s `temporal_extent` as back-ends do: two dates or
 * date-times (one end may be open), the end after the start. Asked over HTTP through
 * `POST /validation`, which reports every problem whatever phase the emulator checks in.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEmulator, type RunningEmulator } from '../../src/tools/emulator';
import { EMULATOR_USER } from '../support/harness';

describe('the emulator and temporal_extent', () => {
  let emulator: RunningEmulator;
  let token: string;
  before(async () => {
    emulator = await startEmulator({ users: [EMULATOR_USER] });
    const login = await fetch(`${emulator.url}/openeo/1.2/credentials/basic`, {
      headers: {
        Authorization: `Basic ${Buffer.from(`${EMULATOR_USER.username}:${EMULATOR_USER.password}`).toString('base64')}`,
      },
    });
    token = ((await login.json()) as { access_token: string }).access_token;
  });
  after(async () => emulator?.close());

  /** The error codes `POST /validation` gives a load_collection with this temporal extent. */
  async function codesFor(temporalExtent: unknown): Promise<string[]> {
    const graph = {
      load: {
        process_id: 'load_collection',
        arguments: { id: 'SENTINEL2_L2A', spatial_extent: null, temporal_extent: temporalExtent },
      },
      save: { process_id: 'save_result', arguments: { data: { from_node: 'load' }, format: 'GTiff' }, result: true },
    };
    const response = await fetch(`${emulator.url}/openeo/1.2/validation`, {
      method: 'POST',
      headers: { Authorization: `Bearer basic//${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ process_graph: graph }),
    });
    assert.equal(response.status, 200);
    return ((await response.json()) as { errors: { code: string }[] }).errors.map((e) => e.code);
  }

  it('accepts dates, date-times, one open end, null and a value known only at run time', async () => {
    for (const value of [
      ['2024-01-01', '2024-02-01'],
      ['2024-01-01T00:00:00Z', '2024-01-01T12:00:00+02:00'],
      ['2024-01-01', null],
      [null, '2024-01-01'],
      null,
      { from_parameter: 'temporal_extent' },
    ]) {
      assert.deepEqual(await codesFor(value), [], JSON.stringify(value));
    }
  });

  it('refuses what is not two instants as ProcessParameterInvalid', async () => {
    for (const value of [['nonsense', 'x'], '2024', ['2024-01-01'], ['2024-02-30', '2024-03-01'], [null, null]]) {
      assert.deepEqual(await codesFor(value), ['ProcessParameterInvalid'], JSON.stringify(value));
    }
  });

  it('refuses an interval that ends before it starts, or where it starts, as TemporalExtentEmpty', async () => {
    assert.deepEqual(await codesFor(['2024-03-01', '2024-02-01']), ['TemporalExtentEmpty']);
    assert.deepEqual(await codesFor(['2024-03-01', '2024-03-01']), ['TemporalExtentEmpty']);
  });
});
