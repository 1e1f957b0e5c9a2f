/** Tiles for batches given as GeoJSON features: small squares in a row near Antwerp. */

/** A 0.05° square tile near Antwerp, `i` tiles east of the first, with its properties. */
export function squareTile(id: string, i: number, properties: Record<string, unknown>) {
  const [w, s] = [4.3 + i * 0.05, 51.2];
  const ring = [
    [w, s],
    [w + 0.05, s],
    [w + 0.05, s + 0.05],
    [w, s + 0.05],
    [w, s],
  ];
  return { type: 'Feature' as const, id, properties, geometry: { type: 'Polygon', coordinates: [ring] } };
}
