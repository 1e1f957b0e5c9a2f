/**
 * Small geometry helpers shared by the tile sources.
 */
import type { BoundingBox, Position } from './tile-types';

/** Decimals kept in EPSG:4326 output coordinates: 1e-7° is about 1 cm. */
export const LONLAT_DECIMALS = 7;
const LONLAT_SCALE = 10 ** LONLAT_DECIMALS;

/**
 * Rounds a longitude or latitude to {@link LONLAT_DECIMALS}. Every tile goes
 * through this one function so equal inputs always give equal outputs, which
 * keeps shared edges of neighbouring tiles identical.
 */
export function roundLonLat(value: number): number {
  const rounded = Math.round(value * LONLAT_SCALE) / LONLAT_SCALE;
  // Avoid -0, which would serialise differently from 0 in some tools.
  return rounded === 0 ? 0 : rounded;
}

/** Index of the first pair of consecutive positions whose longitudes jump by more than 180°, or -1. */
export function antimeridianJump(ring: readonly Position[]): number {
  for (let i = 1; i < ring.length; i++) {
    if (Math.abs(ring[i][0] - ring[i - 1][0]) > 180) return i;
  }
  return -1;
}

/** Extent of a set of rings (all positions, holes included). */
export function ringsBounds(rings: readonly (readonly Position[])[]): BoundingBox {
  let west = Infinity;
  let south = Infinity;
  let east = -Infinity;
  let north = -Infinity;
  for (const ring of rings) {
    for (const [lon, lat] of ring) {
      if (lon < west) west = lon;
      if (lon > east) east = lon;
      if (lat < south) south = lat;
      if (lat > north) north = lat;
    }
  }
  return { west, south, east, north };
}
