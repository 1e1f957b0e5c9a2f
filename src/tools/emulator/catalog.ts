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

/** A process whose parameters are `[name, schema, optional?]`, described in one line. */
function process(
  id: string,
  summary: string,
  categories: string[],
  parameters: Array<[string, unknown, boolean?]>,
  returns: unknown,
): Record<string, unknown> {
  return {
    id,
    summary,
    description: `${summary}.`,
    categories,
    parameters: parameters.map(([name, schema, optional]) =>
      param(name, `The ${name.replace(/_/g, ' ')}.`, schema, optional),
    ),
    returns: { description: 'The result.', schema: returns },
  };
}

const ANY = {};
const CALLBACK = { type: 'object', subtype: 'process-graph' };

/** Processes on data cubes that remote processes such as the BAP composite use. */
const CUBE_PROCESSES = [
  process(
    'filter_bands',
    'Filter the bands by names',
    ['cubes', 'filter'],
    [
      ['data', RASTER_CUBE],
      ['bands', { type: 'array' }, true],
      ['wavelengths', { type: 'array' }, true],
    ],
    RASTER_CUBE,
  ),
  process(
    'filter_spatial',
    'Spatial filter using geometries',
    ['cubes', 'filter'],
    [
      ['data', RASTER_CUBE],
      ['geometries', { type: 'object', subtype: 'geojson' }],
    ],
    RASTER_CUBE,
  ),
  process(
    'mask',
    'Apply a raster mask',
    ['cubes', 'masks'],
    [
      ['data', RASTER_CUBE],
      ['mask', RASTER_CUBE],
      ['replacement', ANY, true],
    ],
    RASTER_CUBE,
  ),
  process(
    'apply',
    'Apply a process to each value',
    ['cubes'],
    [
      ['data', RASTER_CUBE],
      ['process', CALLBACK],
      ['context', ANY, true],
    ],
    RASTER_CUBE,
  ),
  // Sentinel-1 GRD to backscatter, as backends with SENTINEL1_GRD offer it.
  process(
    'sar_backscatter',
    'Computes backscatter from SAR input',
    ['cubes', 'sar'],
    [
      ['data', RASTER_CUBE],
      [
        'coefficient',
        [
          {
            type: 'string',
            enum: ['beta0', 'sigma0-ellipsoid', 'sigma0-terrain', 'gamma0-ellipsoid', 'gamma0-terrain'],
          },
          { type: 'null' },
        ],
        true,
      ],
      ['elevation_model', [{ type: 'string', subtype: 'collection-id' }, { type: 'null' }], true],
      ['mask', { type: 'boolean' }, true],
      ['contributing_area', { type: 'boolean' }, true],
      ['local_incidence_angle', { type: 'boolean' }, true],
      ['ellipsoid_incidence_angle', { type: 'boolean' }, true],
      ['noise_removal', { type: 'boolean' }, true],
      ['options', { type: 'object' }, true],
    ],
    RASTER_CUBE,
  ),
  process(
    'apply_dimension',
    'Apply a process to all values along a dimension',
    ['cubes'],
    [
      ['data', RASTER_CUBE],
      ['process', CALLBACK],
      ['dimension', { type: 'string' }],
      ['target_dimension', ANY, true],
      ['context', ANY, true],
    ],
    RASTER_CUBE,
  ),
];

/** Processes on values, as used in callbacks. */
const VALUE_PROCESSES = [
  process(
    'add',
    'Addition of two numbers',
    ['math'],
    [
      ['x', ANY],
      ['y', ANY],
    ],
    ANY,
  ),
  process(
    'lte',
    'Less than or equal to comparison',
    ['comparison'],
    [
      ['x', ANY],
      ['y', ANY],
    ],
    ANY,
  ),
  process(
    'array_element',
    'Get an element from an array',
    ['arrays'],
    [
      ['data', { type: 'array' }],
      ['index', { type: 'integer' }, true],
      ['label', ANY, true],
      ['return_nodata', { type: 'boolean' }, true],
    ],
    ANY,
  ),
];

/** Predefined processes (a representative handful). */
export const PROCESSES: ReadonlyArray<Record<string, unknown>> = [
  {
    id: 'load_collection',
    summary: 'Load a collection',
    description: 'Opens a collection as a data cube, limited to the given extents and bands.',
    categories: ['cubes', 'import'],
    parameters: [
      param('id', 'Identifier of the collection.', { type: 'string', subtype: 'collection-id' }),
      param('spatial_extent', 'Area to load: a bounding box or GeoJSON.', [
        { type: 'object', subtype: 'bounding-box' },
        { type: 'object', subtype: 'geojson' },
        { type: 'null' },
      ]),
      param('temporal_extent', 'Half-open time interval to load.', [
        { type: 'array', subtype: 'temporal-interval' },
        { type: 'null' },
      ]),
      param(
        'bands',
        'Bands to load; all when null.',
        [{ type: 'array', items: { type: 'string', subtype: 'band-name' } }, { type: 'null' }],
        true,
      ),
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
      param('context', 'Extra data passed to the reducer.', {}, true),
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
  ...CUBE_PROCESSES,
  ...VALUE_PROCESSES,
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
      description: "Uncompressed uint16 GeoTIFF, one band per band of the data cube, in the CRS of the job's extent.",
      gis_data_types: ['raster'],
      parameters: {},
    },
  },
};

/** Names of the output formats `save_result` accepts. */
export function outputFormatNames(): string[] {
  return Object.keys(FILE_FORMATS.output as Record<string, unknown>);
}
