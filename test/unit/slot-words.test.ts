/**
 * After a continue-as-new, the window's new run says the word again to the tiles it may be owed
 * to: those that hold their slot and wait for their job's start, never one still lined up
 * behind another tile (it must not start before the tile ahead gives its slot up).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tilesOwedWord } from '../../workflows/slot-words';
import type { WindowState } from '../../workflows/window-state';

describe('the words a new run of the window says again', () => {
  it('go to tiles holding their slot and waiting, not to running ones nor to lined-up ones', () => {
    const inFlight: WindowState['inFlight'] = {
      handedOn: { backend: 'a', holdsSlot: true, waiting: true },
      running: { backend: 'a', holdsSlot: true, waiting: false, next: 'linedUp' },
      linedUp: { backend: 'a', holdsSlot: false, waiting: false, behind: 'running', needsWord: true },
      movedHere: { backend: 'b', holdsSlot: true, waiting: true },
    };
    assert.deepEqual(tilesOwedWord(inFlight).sort(), ['handedOn', 'movedHere']);
  });

  it('go to no tile when none waits', () => {
    assert.deepEqual(tilesOwedWord({ running: { backend: 'a', holdsSlot: true, waiting: false } }), []);
  });
});
