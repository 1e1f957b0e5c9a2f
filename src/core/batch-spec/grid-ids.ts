/**
 * Ids of grid tiles: the lower-left corner in the AOI's CRS, readable and safe in workflow ids
 * (`E590000-N5660000`, `E4p5-N51`).
 */

/** Decimals of native coordinates used in ids: 1 mm in metric CRSs, ~1 cm in degrees. */
export const ID_DECIMALS = { projected: 3, geographic: 7 } as const;

/** Formats a native coordinate for an id: `E`/`W` or `N`/`S`, digits, `p` for the decimal point. */
function formatIdCoordinate(value: number, decimals: number, positive: string, negative: string): string {
  let digits = Math.abs(value).toFixed(decimals);
  if (digits.includes('.')) digits = digits.replace(/0+$/, '').replace(/\.$/, '');
  const sign = value < 0 && Number(digits) !== 0 ? negative : positive;
  return sign + digits.replace('.', 'p');
}

/** Id of a grid tile from its lower-left corner, e.g. `E590000-N5660000` or `E4p5-N51`. */
export function gridTileId(west: number, south: number, geographic: boolean): string {
  const decimals = ID_DECIMALS[geographic ? 'geographic' : 'projected'];
  return `${formatIdCoordinate(west, decimals, 'E', 'W')}-${formatIdCoordinate(south, decimals, 'N', 'S')}`;
}
