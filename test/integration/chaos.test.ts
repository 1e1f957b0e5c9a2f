/**
 * The chaos test, smaller: a 20-tile batch while the emulator injects 5xx, 429, connection
 * resets, truncated downloads and failing jobs, the worker is killed with SIGKILL twice, the
 * Temporal dev server is restarted once, and the worker that comes back after the first kill
 * is the next release (workflow code with a patched change). Every tile must end finished or
 * error after its allowed attempts, with exactly one openEO job per tile attempt, verified
 * files, and no job left running. test/soak/chaos.test.ts runs 50 tiles and three kills.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chaosFigures, runChaos } from '../harness/chaos-run';

const MAX_ATTEMPTS = 2;
/** Four columns of five tiles; with four jobs at once, five rounds, as the soak run has. */
const TILES = 20;
/** A tile whose jobs always fail: 20 tiles rarely meet a random failure twice, this one always ends in error. */
const FAILING_TILE = 'E590000-N5660000';

describe('chaos, smaller: faults, two worker kills, a server restart and an upgrade', () => {
  it('ends every tile once, with one job per attempt, verified files and no job left running', async () => {
    // The kills land among the tiles' work (not in the batch's spec check, which would only cost
    // its five-minute timeout). The first, as soon as four tiles have finished on the released
    // build, brings the worker back as the upgraded one while tiles are left to start on it; the
    // second kills that one 2.5 s later and restarts the server.
    const r = await runChaos({
      tiles: TILES,
      parallelJobs: 4,
      maxAttempts: MAX_ATTEMPTS,
      killAfterMs: [0, 2_500],
      upgradeAtKill: 0,
      killsOnceTilesRun: true,
      failingTiles: [FAILING_TILE],
      seed: 2026,
    });

    // Every tile ended, as finished or as error after all its attempts.
    assert.equal(r.summary.totalTiles, TILES);
    assert.equal(r.summary.counts.finished + r.summary.counts.error, TILES, JSON.stringify(r.summary.counts));
    // Exactly one openEO job per tile attempt, never more attempts than allowed.
    for (const [title, count] of Object.entries(r.jobsPerTitle)) assert.equal(count, 1, `one job for "${title}"`);
    assert.equal(r.attemptsPerTile.size, TILES);
    assert.ok([...r.attemptsPerTile.values()].every((n) => n >= 1 && n <= MAX_ATTEMPTS));
    // Faults really happened (more than one per tile, as in the soak run), and a failed tile used all its attempts.
    assert.ok(r.stats.faults.total > TILES, `faults were injected: ${r.stats.faults.total}`);
    assert.ok(
      r.summary.failedTiles.some((failed) => failed.tileId === FAILING_TILE),
      `${FAILING_TILE} ended in error: ${JSON.stringify(r.summary.failedTiles)}`,
    );
    for (const failed of r.summary.failedTiles) {
      assert.equal(
        r.attemptsPerTile.get(failed.tileId),
        MAX_ATTEMPTS,
        `${failed.tileId} ended after fewer attempts: ${failed.error.code}: ${failed.error.message}`,
      );
    }
    // No job left queued or running on the backend, and every finished tile's files are whole.
    assert.deepEqual(r.activeJobs, []);
    assert.equal(r.finishedTilesListed, r.summary.counts.finished);
    assert.deepEqual(r.checksumMismatches, []);
    // Tiles started before the upgrade replayed their old path on the new build; later ones took the new one.
    assert.ok(
      r.tilesOnUpgradedBuild > 0 && r.tilesOnUpgradedBuild < TILES,
      `tiles on the upgraded build: ${r.tilesOnUpgradedBuild}`,
    );
    console.log(`chaos figures: ${chaosFigures(r)}`);
  });
});
