/**
 * Which of the tile's changes a tile takes, decided by the version its window wrote into its
 * input rather than by `patched()` markers.
 *
 * A tile workflow is short-lived and always started by its window, so the window can say, once,
 * which release of the tile's code it starts: a tile's input is in its history, and its version
 * decides every branch there for good, the same way on every replay. A patch marker says the
 * same thing, but each workflow task that records markers is a billed Temporal Cloud Action
 * (see docs/operations.md, "What a tile costs"). Tiles that were started without a version
 * (windows of 0.12.0 and before) still ask `patched()` as they always did.
 *
 * A change to the tile's code in a later release either keeps every history replaying as it
 * is, or raises {@link TILE_VERSION} and branches on {@link tileTakes}; a change that tiles
 * already in flight must take (their version is older) goes behind a patch as before, listed in
 * {@link PATCHES_BY_VERSION} with the version from which it needs no marker.
 */
import { patched } from '@temporalio/workflow';

/**
 * The version of the tile's code this release starts tiles with.
 *
 * 1 (0.13.0): every patch of earlier releases is taken without a marker; the job's id is made
 * searchable with the tile's final status (one upsert instead of two); the job's end is told
 * to the window only when the window asked for it (`jobEndWanted`); a lined-up tile creates its
 * job itself, and its hand-over (which only starts it) heartbeats as rarely as a wait and is
 * not waited for once called off.
 */
export const TILE_VERSION = 1;

/** What a tile's input says of its version (absent before 0.13.0). */
export interface TileVersioned {
  tileVersion?: number;
}

/** The tile patches of earlier releases, with the version from which a tile takes them without a marker. */
export const PATCHES_BY_VERSION = {
  'lean-tile': 1,
  'tile-record-memo': 1,
  'tile-markers-up-front': 1,
  'vanished-job-retried': 1,
  'stac-postprocess-assets': 1,
} as const;

export type TilePatch = keyof typeof PATCHES_BY_VERSION;

/** The tile's version: 0 for a tile its window started without one. */
export function versionOf(tile: TileVersioned): number {
  return tile.tileVersion ?? 0;
}

/** Whether the tile was started with at least `version` of the tile's code. */
export function tileIsAtLeast(tile: TileVersioned, version: number): boolean {
  return versionOf(tile) >= version;
}

/**
 * Whether the tile takes the change behind `patchId`: by its version when that is recent enough
 * (no marker), else by the patch's marker, as tiles of earlier releases always did.
 */
export function tileTakes(tile: TileVersioned, patchId: TilePatch): boolean {
  return tileIsAtLeast(tile, PATCHES_BY_VERSION[patchId]) || patched(patchId);
}
