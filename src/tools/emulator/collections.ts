/**
 * The collections the emulated back-end offers, with their bands listed the
 * way CDSE lists them: as the values of the `bands` dimension in
 * `cube:dimensions` and as `summaries.eo:bands`. Process graph checks read
 * the band names from here, so a band that is not listed is rejected.
 */
import { STAC_VERSION } from './constants';

/** One band of a collection (the fields of an `eo:bands` entry the emulator fills in). */
export interface CollectionBand {
  name: string;
  common_name?: string;
  /** Centre wavelength in micrometres (optical bands only). */
  center_wavelength?: number;
  description?: string;
}

interface CollectionSpec {
  id: string;
  title: string;
  description: string;
  keywords: string[];
  bbox: [number, number, number, number];
  start: string;
  platform: string[];
  bands: CollectionBand[];
  extraSummaries?: Record<string, unknown>;
}

const SENTINEL2_BANDS: CollectionBand[] = [
  { name: 'B01', common_name: 'coastal', center_wavelength: 0.443 },
  { name: 'B02', common_name: 'blue', center_wavelength: 0.49 },
  { name: 'B03', common_name: 'green', center_wavelength: 0.56 },
  { name: 'B04', common_name: 'red', center_wavelength: 0.665 },
  { name: 'B05', common_name: 'rededge', center_wavelength: 0.705 },
  { name: 'B06', common_name: 'rededge', center_wavelength: 0.74 },
  { name: 'B07', common_name: 'rededge', center_wavelength: 0.783 },
  { name: 'B08', common_name: 'nir', center_wavelength: 0.842 },
  { name: 'B8A', common_name: 'nir08', center_wavelength: 0.865 },
  { name: 'B09', common_name: 'nir09', center_wavelength: 0.945 },
  { name: 'B11', common_name: 'swir16', center_wavelength: 1.61 },
  { name: 'B12', common_name: 'swir22', center_wavelength: 2.19 },
  { name: 'SCL', description: 'Scene classification' },
  { name: 'AOT', description: 'Aerosol optical thickness' },
  { name: 'WVP', description: 'Water vapour' },
  { name: 'sunAzimuthAngles' },
  { name: 'sunZenithAngles' },
  { name: 'viewAzimuthMean' },
  { name: 'viewZenithMean' },
];

const SPECS: CollectionSpec[] = [
  {
    id: 'SENTINEL2_L2A',
    title: 'Sentinel-2 Level-2A (emulated)',
    description: 'Surface reflectance from the Sentinel-2 MSI instruments. The emulator generates synthetic pixels.',
    keywords: ['Sentinel-2', 'optical', 'emulated'],
    bbox: [-180, -56, 180, 84],
    start: '2015-07-04T00:00:00Z',
    platform: ['sentinel-2a', 'sentinel-2b'],
    bands: SENTINEL2_BANDS,
    extraSummaries: { 'eo:cloud_cover': { minimum: 0, maximum: 100 } },
  },
  {
    id: 'SENTINEL1_GRD',
    title: 'Sentinel-1 GRD (emulated)',
    description: 'Sentinel-1 ground range detected backscatter. The emulator generates synthetic pixels.',
    keywords: ['Sentinel-1', 'SAR', 'emulated'],
    bbox: [-180, -85, 180, 85],
    start: '2014-10-03T00:00:00Z',
    platform: ['sentinel-1a', 'sentinel-1b'],
    bands: [{ name: 'VV' }, { name: 'VH' }, { name: 'HV' }, { name: 'HH' }],
  },
  {
    id: 'COPERNICUS_30',
    title: 'Copernicus DEM GLO-30 (emulated)',
    description: 'Global digital elevation model at 30 m. The emulator generates synthetic pixels.',
    keywords: ['DEM', 'elevation', 'emulated'],
    bbox: [-180, -90, 180, 90],
    start: '2010-12-01T00:00:00Z',
    platform: ['TanDEM-X'],
    bands: [{ name: 'DEM' }],
  },
];

function collectionDocument(spec: CollectionSpec): Record<string, unknown> {
  const [west, south, east, north] = spec.bbox;
  return {
    stac_version: STAC_VERSION,
    stac_extensions: [
      'https://stac-extensions.github.io/datacube/v2.2.0/schema.json',
      'https://stac-extensions.github.io/eo/v1.1.0/schema.json',
    ],
    type: 'Collection',
    id: spec.id,
    title: spec.title,
    description: spec.description,
    license: 'proprietary',
    keywords: spec.keywords,
    extent: {
      spatial: { bbox: [spec.bbox] },
      temporal: { interval: [[spec.start, null]] },
    },
    'cube:dimensions': {
      x: { type: 'spatial', axis: 'x', extent: [west, east], reference_system: 4326 },
      y: { type: 'spatial', axis: 'y', extent: [south, north], reference_system: 4326 },
      t: { type: 'temporal', extent: [spec.start, null] },
      bands: { type: 'bands', values: spec.bands.map((band) => band.name) },
    },
    summaries: {
      platform: spec.platform,
      'eo:bands': spec.bands.map((band) => ({ ...band })),
      ...spec.extraSummaries,
    },
  };
}

/** Collection metadata without links (links depend on the request origin). */
export const COLLECTIONS: ReadonlyArray<Record<string, unknown>> = SPECS.map(collectionDocument);

/** The bands of each collection by id, in the order the collection lists them. */
export const COLLECTION_BANDS: ReadonlyMap<string, readonly CollectionBand[]> = new Map(
  SPECS.map((spec) => [spec.id, spec.bands]),
);
