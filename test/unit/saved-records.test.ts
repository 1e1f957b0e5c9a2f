/**
 * The records a batch saves beside its results: read back tolerantly, and merged with what
 * Temporal still holds so that a tile whose workflow retention deleted keeps its record.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeSavedRecords, SAVED_RECORDS_VERSION, withSavedRows } from '../../activities/records/saved';
import type { TileRow } from '../../src/core/records';

const square = {
  type: 'Polygon' as const,
  coordinates: [
    [
      [4, 51],
      [4.1, 51],
      [4.1, 51.1],
      [4, 51],
    ],
  ],
};

function row(tileId: string, status: TileRow['status'], extra: Partial<TileRow> = {}): TileRow {
  return { batchId: 'b', tileId, status, attempts: status === 'not_started' ? 0 : 1, geometry: null, ...extra };
}

describe('saved records', () => {
  it('takes the saved record of a tile Temporal no longer holds, keeping the outline it has', () => {
    const live = [
      row('t1', 'not_started', { geometry: square }),
      row('t2', 'running', { workflowId: 'b/tile-t2' }),
      row('t3', 'not_started', { geometry: square }),
    ];
    const saved = [
      row('t1', 'finished', { openeoJobId: 'j-1', workflowId: 'b/tile-t1' }),
      row('t2', 'running', { openeoJobId: 'j-2', workflowId: 'b/tile-t2' }),
      row('t3', 'not_started'),
      row('added-1', 'error', { openeoJobId: 'j-9', geometry: square }),
    ];
    const merged = withSavedRows(live, saved);
    assert.deepEqual(
      merged.map((t) => [t.tileId, t.status, t.openeoJobId, t.geometry !== null]),
      [
        ['t1', 'finished', 'j-1', true],
        ['t2', 'running', undefined, false],
        ['t3', 'not_started', undefined, true],
        ['added-1', 'error', 'j-9', true],
      ],
    );
  });

  it('reads only its own batch in its own layout, dropping malformed rows', () => {
    const doc = {
      version: SAVED_RECORDS_VERSION,
      batchId: 'b',
      savedAt: '2026-12-07T10:00:00Z',
      complete: true,
      spec: {},
      tiles: [row('t1', 'finished'), { tileId: 7 }, null, { status: 'finished' }, { tileId: 't2', status: 'error' }],
    };
    const decoded = decodeSavedRecords(JSON.stringify(doc), 'b');
    assert.deepEqual(
      decoded?.tiles.map((t) => [t.tileId, t.status, t.geometry]),
      [
        ['t1', 'finished', null],
        ['t2', 'error', null],
      ],
    );
    assert.equal(decoded?.complete, true);
    assert.equal(decodeSavedRecords(JSON.stringify(doc), 'other'), undefined, "another batch's file");
    assert.equal(decodeSavedRecords(JSON.stringify({ ...doc, version: 2 }), 'b'), undefined, 'a newer layout');
  });
});
