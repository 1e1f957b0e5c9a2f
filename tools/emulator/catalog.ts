/**
 * Static discovery data: the collections, predefined processes and file
 * formats the emulated back-end advertises. Short on purpose; the emulator
 * does not execute processes, it only needs plausible metadata.
 */

/** The collections live in their own module; re-exported so discovery keeps one import. */
export { COLLECTIONS } from './collections';

const RASTER_CUBE = { type: 'object', subtype: 'datacube' } as const;

function param(name: string, description: string, schema: unknown, optional = false): Record<string, unknown> {
  return optional ? { name, description, schema, optional: true } : { name, description, schema };
}

/** Predefined processes (a representative handful). */
export const PROCESSES: ReadonlyArray<Record<string, unknown>> = [
  {
    id: 'load_collection',
    summary: 'Load a collection',
    description: 'Opens a collection as a data cube, limited to the given extents and bands.',
    categories: ['cubes', 'import'],
    parameters: [
      param('id', 'Identifier of the collection.', { type: 'string', subtype: 'collection-id' }),
      param('spatial_extent', 'Area to load: a bounding box or GeoJSON.', [{ type: 'object', subtype: 'bounding-box' }, { type: 'object', subtype: 'geojson' }, { type: 'null' }]),
      param('temporal_extent', 'Half-open time interval to load.', [{ type: 'array', subtype: 'temporal-interval' }, { type: 'null' }]),
      param('bands', 'Bands to load; all when null.', [{ type: 'array', items: { type: 'string', subtype: 'band-name' } }, { type: 'null' }], true),
      param('properties', 'Metadata filters on the source items.', [{ type: 'object' }, { type: 'null' }], true),
    ],
    returns: { description: 'The loaded data cube.', schema: RASTER_CUBE },
  },
  {
    id: 'filter_bbox',
    summary: 'Spatial filter by bounding box',
    description: 'Keeps only the part of the data cube inside the bounding box.',
    categories: ['cubes', 'filter'],
    parameters: [
      param('data', 'Data cube to filter.', RASTER_CUBE),
      param('extent', 'Bounding box, optionally with a CRS.', { type: 'object', subtype: 'bounding-box' }),
    ],
    returns: { description: 'The filtered data cube.', schema: RASTER_CUBE },
  },
  {
    id: 'filter_temporal',
    summary: 'Temporal filter by interval',
    description: 'Keeps only the observations inside the half-open time interval.',
    categories: ['cubes', 'filter'],
    parameters: [
      param('data', 'Data cube to filter.', RASTER_CUBE),
      param('extent', 'Start (inclusive) and end (exclusive).', { type: 'array', subtype: 'temporal-interval' }),
    ],
    returns: { description: 'The filtered data cube.', schema: RASTER_CUBE },
  },
  {
    id: 'reduce_dimension',
    summary: 'Reduce a dimension',
    description: 'Collapses one dimension of the data cube with a reducer callback.',
    categories: ['cubes', 'reducer'],
    parameters: [
      param('data', 'Data cube to reduce.', RASTER_CUBE),
      param('reducer', 'Callback computing one value from many.', { type: 'object', subtype: 'process-graph' }),
      param('dimension', 'Name of the dimension to collapse.', { type: 'string' }),
    ],
    returns: { description: 'Data cube without the reduced dimension.', schema: RASTER_CUBE },
  },
  {
    id: 'median',
    summary: 'Median value',
    description: 'Middle value of the numbers, ignoring no-data values by default.',
    categories: ['math', 'reducer'],
    parameters: [
      param('data', 'Numbers to reduce.', { type: 'array', items: { type: ['number', 'null'] } }),
      param('ignore_nodata', 'Skip no-data values.', { type: 'boolean' }, true),
    ],
    returns: { description: 'The median, or null.', schema: { type: ['number', 'null'] } },
  },
  {
    id: 'ndvi',
    summary: 'Normalized difference vegetation index',
    description: 'Computes (NIR - red) / (NIR + red) per pixel.',
    categories: ['math > indices', 'vegetation indices'],
    parameters: [
      param('data', 'Data cube with a bands dimension.', RASTER_CUBE),
      param('nir', 'Name of the near-infrared band.', { type: 'string', subtype: 'band-name' }, true),
      param('red', 'Name of the red band.', { type: 'string', subtype: 'band-name' }, true),
    ],
    returns: { description: 'Data cube of NDVI values.', schema: RASTER_CUBE },
  },
  {
    id: 'save_result',
    summary: 'Save as file',
    description: 'Marks the data cube to be written in the given file format.',
    categories: ['cubes', 'export'],
    parameters: [
      param('data', 'Data to store.', RASTER_CUBE),
      param('format', 'Output file format, see GET /file_formats.', { type: 'string', subtype: 'output-format' }),
      param('options', 'Format-specific options.', { type: 'object', subtype: 'output-format-options' }, true),
    ],
    returns: { description: 'Always true.', schema: { type: 'boolean' } },
  },
];

/**
 * Supported file formats: what `GET /file_formats` lists and what
 * `save_result` accepts (names match case-insensitively, as on the
 * openeo-python-driver back-ends).
 */
export const FILE_FORMATS: Readonly<Record<string, unknown>> = {
  input: {
    GTiff: { title: 'GeoTIFF', gis_data_types: ['raster'], parameters: {} },
  },
  output: {
    GTiff: {
      title: 'GeoTIFF',
      description: 'Uncompressed uint16 GeoTIFF, one band per band of the data cube, in the CRS of the job\'s extent.',
      gis_data_types: ['raster'],
      parameters: {},
    },
  },
};

/** Names of the output formats `save_result` accepts. */
export function outputFormatNames(): string[] {
  return Object.keys(FILE_FORMATS.output as Record<string, unknown>);
}
