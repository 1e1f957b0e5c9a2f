/**
 * The chaos test: a 50-tile batch while the emulator injects 5xx, 429, connection resets,
 * truncated downloads and failing jobs, the worker is killed with SIGKILL three times, the
 * Temporal dev server is restarted once, and the last worker comes back as the next release
 * (workflow code with a patched change). Every tile must end finished or error after its allowed
 * attempts, with exactly one openEO job per tile attempt, verified files, and no job left running.
 * (`npm run bench` runs the same with more tiles.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chaosFigures, runChaos } from '../harness/chaos-run';

const MAX_ATTEMPTS = 2;

describe('chaos: faults, worker kills and a server restart', () => {
  it('ends every tile once, with one job per attempt, verified files and no job left running', async () => {
    const r = await runChaos({
      tiles: 50,
      parallelJobs: 10,
      maxAttempts: MAX_ATTEMPTS,
      killAfterMs: [2_500, 4_000, 3_000],
      upgradeAtKill: 2,
      seed: 2026,
    });

    // Every tile ended, as finished or as error after all its attempts.
    assert.equal(r.summary.totalTiles, 50);
    assert.equal(r.summary.counts.finished + r.summary.counts.error, 50, JSON.stringify(r.summary.counts));
    // Exactly one openEO job per tile attempt, never more attempts than allowed.
    for (const [title, count] of Object.entries(r.jobsPerTitle)) assert.equal(count, 1, `one job for "${title}"`);
    assert.equal(r.attemptsPerTile.size, 50);
    assert.ok([...r.attemptsPerTile.values()].every((n) => n >= 1 && n <= MAX_ATTEMPTS));
    // Faults really happened, and a failed tile used all its attempts.
    assert.ok(r.stats.faults.total > 50, `faults were injected: ${r.stats.faults.total}`);
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
      r.tilesOnUpgradedBuild > 0 && r.tilesOnUpgradedBuild < 50,
      `tiles on the upgraded build: ${r.tilesOnUpgradedBuild}`,
    );
    console.log(`chaos figures: ${chaosFigures(r)}`);
  });
});
