/**
 * A minimal GeoTIFF encoder: one or more bands, uint16, uncompressed, one
 * strip per band (band-interleaved, as GDAL's INTERLEAVE=BAND), band names in
 * the GDAL metadata tag, little-endian, georeferenced in EPSG:4326 or a projected EPSG CRS through
 * ModelTiepoint + ModelPixelScale + GeoKeyDirectory. Enough for result
 * downloads that real GeoTIFF readers accept.
 *
 * Not geotiff.js's writeArrayBuffer (3.0.5): it cannot write the GDAL_METADATA tag (it throws
 * "unknown type of tag: 42112"), so band names would be lost; it puts all tags in a fixed
 * 1,000-byte header and silently drops what does not fit (from 112 bands on, the EPSG code); and
 * it encodes pixel by pixel (7 s for 1024×1024×3 bands, 0.05 s here).
 */
import { createHash } from 'node:crypto';
import type { BBox } from './area';

/** TIFF field types used here, with their byte sizes. */
const FIELD_TYPE = {
  ASCII: { code: 2, size: 1 },
  SHORT: { code: 3, size: 2 },
  LONG: { code: 4, size: 4 },
  DOUBLE: { code: 12, size: 8 },
} as const;

type FieldType = keyof typeof FIELD_TYPE;

interface TiffField {
  tag: number;
  type: FieldType;
  values: number[] | string;
}

/** TIFF/GeoTIFF tag numbers. */
const TAG = {
  ImageWidth: 256,
  ImageLength: 257,
  BitsPerSample: 258,
  Compression: 259,
  PhotometricInterpretation: 262,
  StripOffsets: 273,
  SamplesPerPixel: 277,
  RowsPerStrip: 278,
  StripByteCounts: 279,
  PlanarConfiguration: 284,
  ExtraSamples: 338,
  SampleFormat: 339,
  ModelPixelScale: 33550,
  ModelTiepoint: 33922,
  GeoKeyDirectory: 34735,
  GdalMetadata: 42112,
  GdalNoData: 42113,
} as const;

/** GeoKey ids and values for geographic WGS 84 and projected rasters. */
const GEO_KEY = {
  GTModelType: 1024,
  GTRasterType: 1025,
  GeographicType: 2048,
  GeogAngularUnits: 2054,
  ProjectedCSType: 3072,
  ProjLinearUnits: 3076,
  ModelTypeProjected: 1,
  ModelTypeGeographic: 2,
  RasterPixelIsArea: 1,
  Wgs84: 4326,
  AngularDegree: 9102,
  LinearMeter: 9001,
} as const;

/** The GeoKeyDirectory entries `[key, location 0 (inline), count 1, value]` for a CRS. */
function geoKeysFor(epsg: number): number[][] {
  if (epsg === GEO_KEY.Wgs84) {
    return [
      [GEO_KEY.GTModelType, 0, 1, GEO_KEY.ModelTypeGeographic],
      [GEO_KEY.GTRasterType, 0, 1, GEO_KEY.RasterPixelIsArea],
      [GEO_KEY.GeographicType, 0, 1, GEO_KEY.Wgs84],
      [GEO_KEY.GeogAngularUnits, 0, 1, GEO_KEY.AngularDegree],
    ];
  }
  return [
    [GEO_KEY.GTModelType, 0, 1, GEO_KEY.ModelTypeProjected],
    [GEO_KEY.GTRasterType, 0, 1, GEO_KEY.RasterPixelIsArea],
    [GEO_KEY.ProjectedCSType, 0, 1, epsg],
    [GEO_KEY.ProjLinearUnits, 0, 1, GEO_KEY.LinearMeter],
  ];
}

/** Input of {@link encodeGeoTiff}. */
export interface GeoTiffRaster {
  /** Columns of pixels. */
  width: number;
  /** Rows of pixels. */
  height: number;
  /** Row-major pixel values, `width * height` of them; one array per band for several bands. */
  pixels: Uint16Array | readonly Uint16Array[];
  /** Band names (one per band), written where GDAL reads band descriptions. */
  bandNames?: readonly string[];
  /** Extent of the whole raster (outer pixel edges) in the raster's CRS. */
  bbox: BBox;
  /**
   * EPSG code of the CRS: 4326, or a projected CRS in metres (UTM, 3857).
   * @default 4326
   */
  epsg?: number;
  /** Value marking missing data, written as the GDAL_NODATA tag. */
  noData?: number;
}

function fieldByteLength(field: TiffField): number {
  const count = typeof field.values === 'string' ? field.values.length + 1 : field.values.length;
  return count * FIELD_TYPE[field.type].size;
}

function writeValues(view: DataView, offset: number, field: TiffField): void {
  if (typeof field.values === 'string') {
    for (let i = 0; i < field.values.length; i++) view.setUint8(offset + i, field.values.charCodeAt(i) & 0x7f);
    view.setUint8(offset + field.values.length, 0); // ASCII fields are NUL-terminated
    return;
  }
  const size = FIELD_TYPE[field.type].size;
  field.values.forEach((value, i) => {
    const at = offset + i * size;
    if (field.type === 'SHORT') view.setUint16(at, value, true);
    else if (field.type === 'LONG') view.setUint32(at, value, true);
    else view.setFloat64(at, value, true);
  });
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The GDAL_METADATA document naming each band (GDAL shows it as the band description). */
function gdalBandNames(names: readonly string[]): string {
  const items = names.map(
    (name, i) => `<Item name="DESCRIPTION" sample="${i}" role="description">${xmlEscape(name)}</Item>`,
  );
  return `<GDALMetadata>${items.join('')}</GDALMetadata>`;
}

/** The bands of a raster as separate planes, each checked against the raster's size. */
function planesOf(raster: GeoTiffRaster): readonly Uint16Array[] {
  const planes = raster.pixels instanceof Uint16Array ? [raster.pixels] : raster.pixels;
  if (planes.length === 0) throw new RangeError('A raster needs at least one band');
  for (const plane of planes) {
    if (plane.length !== raster.width * raster.height) {
      throw new RangeError(`Expected ${raster.width * raster.height} pixels per band, got ${plane.length}`);
    }
  }
  if (raster.bandNames !== undefined && raster.bandNames.length !== planes.length) {
    throw new RangeError(`Expected ${planes.length} band names, got ${raster.bandNames.length}`);
  }
  return planes;
}

/** The per-band sample fields: one value per band, planes stored one after the other. */
function sampleFields(bands: number, planeBytes: number): TiffField[] {
  const perBand = (value: number) => Array.from({ length: bands }, () => value);
  const fields: TiffField[] = [
    { tag: TAG.BitsPerSample, type: 'SHORT', values: perBand(16) },
    { tag: TAG.StripOffsets, type: 'LONG', values: perBand(0) }, // patched below once the layout is known
    { tag: TAG.SamplesPerPixel, type: 'SHORT', values: [bands] },
    { tag: TAG.StripByteCounts, type: 'LONG', values: perBand(planeBytes) },
    { tag: TAG.PlanarConfiguration, type: 'SHORT', values: [bands > 1 ? 2 : 1] }, // 2: one plane per band
    { tag: TAG.SampleFormat, type: 'SHORT', values: perBand(1) }, // unsigned integer
  ];
  // Bands beyond the first of a grey-scale image are "unspecified" extra samples (what GDAL writes).
  if (bands > 1) fields.push({ tag: TAG.ExtraSamples, type: 'SHORT', values: perBand(0).slice(1) });
  return fields;
}

/** Encodes a uint16 GeoTIFF with one or more bands. */
export function encodeGeoTiff(raster: GeoTiffRaster): Buffer {
  const { width, height, bbox } = raster;
  const planes = planesOf(raster);
  const planeBytes = width * height * 2;
  const geoKeys = geoKeysFor(raster.epsg ?? GEO_KEY.Wgs84);
  const fields: TiffField[] = [
    { tag: TAG.ImageWidth, type: 'LONG', values: [width] },
    { tag: TAG.ImageLength, type: 'LONG', values: [height] },
    { tag: TAG.Compression, type: 'SHORT', values: [1] }, // none
    { tag: TAG.PhotometricInterpretation, type: 'SHORT', values: [1] }, // BlackIsZero
    { tag: TAG.RowsPerStrip, type: 'LONG', values: [height] },
    ...sampleFields(planes.length, planeBytes),
    {
      tag: TAG.ModelPixelScale,
      type: 'DOUBLE',
      values: [(bbox.east - bbox.west) / width, (bbox.north - bbox.south) / height, 0],
    },
    // Raster point (0, 0) = upper-left corner of the image = (west, north).
    { tag: TAG.ModelTiepoint, type: 'DOUBLE', values: [0, 0, 0, bbox.west, bbox.north, 0] },
    { tag: TAG.GeoKeyDirectory, type: 'SHORT', values: [1, 1, 0, geoKeys.length, ...geoKeys.flat()] },
  ];
  if (raster.bandNames !== undefined) {
    fields.push({ tag: TAG.GdalMetadata, type: 'ASCII', values: gdalBandNames(raster.bandNames) });
  }
  if (raster.noData !== undefined) {
    fields.push({ tag: TAG.GdalNoData, type: 'ASCII', values: String(raster.noData) });
  }
  fields.sort((a, b) => a.tag - b.tag); // TIFF requires ascending tag order

  // Layout: header (8) | IFD | out-of-line values (word aligned) | pixel strip.
  const ifdOffset = 8;
  const ifdSize = 2 + fields.length * 12 + 4;
  let cursor = ifdOffset + ifdSize;
  const valueOffsets = fields.map((field) => {
    if (fieldByteLength(field) <= 4) return -1; // stored inline in the entry
    cursor += cursor % 2;
    const at = cursor;
    cursor += fieldByteLength(field);
    return at;
  });
  cursor += cursor % 2;
  const stripOffset = cursor;
  const stripField = fields.find((f) => f.tag === TAG.StripOffsets);
  if (stripField) stripField.values = planes.map((_, band) => stripOffset + band * planeBytes);

  const buffer = Buffer.alloc(stripOffset + planes.length * planeBytes);
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  view.setUint8(0, 0x49); // "II": little-endian
  view.setUint8(1, 0x49);
  view.setUint16(2, 42, true);
  view.setUint32(4, ifdOffset, true);
  view.setUint16(ifdOffset, fields.length, true);
  fields.forEach((field, i) => {
    const entry = ifdOffset + 2 + i * 12;
    const count = typeof field.values === 'string' ? field.values.length + 1 : field.values.length;
    view.setUint16(entry, field.tag, true);
    view.setUint16(entry + 2, FIELD_TYPE[field.type].code, true);
    view.setUint32(entry + 4, count, true);
    if (valueOffsets[i] < 0) writeValues(view, entry + 8, field);
    else {
      view.setUint32(entry + 8, valueOffsets[i], true);
      writeValues(view, valueOffsets[i], field);
    }
  });
  view.setUint32(ifdOffset + 2 + fields.length * 12, 0, true); // no further IFDs
  planes.forEach((plane, band) => {
    const start = stripOffset + band * planeBytes;
    for (let i = 0; i < plane.length; i++) view.setUint16(start + i * 2, plane[i], true);
  });
  return buffer;
}

/**
 * Deterministic synthetic pixel values: a smooth gradient plus a pattern
 * derived from `seed`, so different jobs produce different files while the
 * same job always produces the same bytes.
 */
export function syntheticPixels(width: number, height: number, seed: string): Uint16Array {
  const digest = createHash('sha256').update(seed).digest();
  const base = digest.readUInt16LE(0) % 2000;
  const stepX = 1 + (digest[2] % 7);
  const stepY = 1 + (digest[3] % 11);
  const pixels = new Uint16Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      pixels[y * width + x] = base + x * stepX * 13 + y * stepY * 17 + ((x * y) % 29);
    }
  }
  return pixels;
}
