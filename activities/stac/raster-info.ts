/**
 * The projection fields of a result GeoTIFF's STAC asset, read from the file's header with
 * geotiff.js (no pixel is read): its CRS as an EPSG code, its extent, its grid and the affine
 * transform from pixels to CRS coordinates.
 */
import { fromFile } from 'geotiff';

/** The `proj:` fields of an asset (STAC projection extension v2). */
export interface ProjectionFields {
  /** `EPSG:<code>`, or null when the file's CRS has no EPSG code. */
  'proj:code': string | null;
  /** `[west, south, east, north]` in the file's CRS. */
  'proj:bbox': [number, number, number, number];
  /** `[rows, columns]`. */
  'proj:shape': [number, number];
  /** GDAL's geotransform reordered as STAC wants it: `[xRes, 0, xOrigin, 0, yRes, yOrigin]`. */
  'proj:transform': [number, number, number, number, number, number];
}

/** GeoTIFF's code for "a CRS not in the EPSG registry". */
const USER_DEFINED = 32767;

/** The projection fields of the GeoTIFF at `path`. Throws when it is not a georeferenced TIFF. */
export async function readProjection(path: string): Promise<ProjectionFields> {
  const tiff = await fromFile(path);
  try {
    const image = await tiff.getImage();
    const keys = image.getGeoKeys() ?? {};
    const code = (keys.ProjectedCSTypeGeoKey ?? keys.GeographicTypeGeoKey) as number | undefined;
    const [originX, originY] = image.getOrigin();
    const [resX, resY] = image.getResolution();
    const width = image.getWidth();
    const height = image.getHeight();
    const [x1, x2] = [originX, originX + width * resX];
    const [y1, y2] = [originY, originY + height * resY];
    return {
      'proj:code': code === undefined || code === USER_DEFINED ? null : `EPSG:${code}`,
      'proj:bbox': [Math.min(x1, x2), Math.min(y1, y2), Math.max(x1, x2), Math.max(y1, y2)],
      'proj:shape': [height, width],
      'proj:transform': [resX, 0, originX, 0, resY, originY],
    };
  } finally {
    await tiff.close();
  }
}

/** True for an asset a GeoTIFF reader can open: by media type, else by file name. */
export function isGeoTiffAsset(type: string | undefined, file: string): boolean {
  if (type !== undefined) return /^image\/tiff\b/i.test(type.trim());
  return /\.tiff?$/i.test(file);
}
