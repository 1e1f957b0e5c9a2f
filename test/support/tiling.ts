/**
 * Assertions shared by the tiling tests: a tile source that both entry points must reject with
 * the same SpecError.
 */
import assert from 'node:assert/strict';

import { countTiles, SpecError, tilePage, type TileSource } from '../../src/core/batch-spec/tiling';

/** Asserts that both entry points reject the source with a SpecError for `field` whose message matches `pattern`. */
export function assertSpecError(source: TileSource, field: string, pattern?: RegExp): SpecError {
  let caught: unknown;
  try {
    countTiles(source);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof SpecError, `expected a SpecError, got ${String(caught)}`);
  assert.equal(caught.field, field);
  assert.ok(caught.message.startsWith(`${field}: `), `message names the field: ${caught.message}`);
  assert.ok(caught.fix.length > 0 && caught.message.includes(caught.fix), 'message includes the fix');
  if (pattern) assert.match(caught.message, pattern);
  assert.throws(
    () => tilePage(source, 0, 1),
    (e: unknown) => e instanceof SpecError && e.field === field,
  );
  return caught;
}
