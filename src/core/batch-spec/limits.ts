/**
 * Size limits of a batch. `MAX_TILES` is a hard limit; `maxTiles` in a spec is the size a user
 * confirms (`start --yes` confirms any size up to the hard limit).
 */

/** Most tiles one spec may produce; beyond this a batch is almost certainly a mistake. */
export const MAX_TILES = 1_000_000;

/** Tiles a batch may have unless its spec says more (`maxTiles`) or the start is confirmed. */
export const DEFAULT_MAX_TILES = 10_000;

/**
 * Largest tile edge accepted, in the units of a projected CRS (metres for UTM and LAEA): one
 * openEO job over more than 1,000 × 1,000 km is not a tile but a mistake in the units.
 */
export const MAX_TILE_SIZE_PROJECTED = 1_000_000;

/** The same limit for a geographic CRS, in degrees (about 1,100 km at the equator). */
export const MAX_TILE_SIZE_DEGREES = 10;
