/**
 * Remote user-defined processes (UDPs) the emulator can "resolve".
 *
 * A real back-end downloads the process definition from the node's
 * `namespace` URL when the job runs; the emulator never goes to the network,
 * it looks the URL up in this registry instead.
 */

import type { ParameterSchema } from './parameter-schema';

/** One declared parameter of a remote process. */
export interface UdpParameter {
  /** The parameter's name. */
  name: string;
  /** Parameters without `optional: true` must be passed as an argument. */
  optional?: boolean;
  /** The value an optional parameter takes when the call leaves it out. */
  default?: unknown;
  /** The JSON Schema (or list of alternatives) an argument must satisfy; anything goes without one. */
  schema?: ParameterSchema;
}

/** The part of a remote process definition the emulator checks calls against. */
export interface UdpDefinition {
  /** The process's id. */
  id: string;
  /** The process's parameters. */
  parameters: UdpParameter[];
  /**
   * Name of the parameter that lists the bands of the process's result (its
   * default when the call omits it). Without it the result has one band.
   */
  resultBandsParameter?: string;
}

/** Remote process definitions keyed by their namespace URL. */
export type UdpRegistry = Readonly<Record<string, UdpDefinition>>;

/** Namespace URL of the APEx best-available-pixel composite UDP. */
export const BAP_COMPOSITE_NAMESPACE =
  'https://github.com/ESA-APEx/apex_algorithms/raw/refs/heads/main/algorithm_catalog/vito/bap_composite/openeo_udp/bap_composite.json';

/** The bands the published `bap_composite` accepts in its `bands` parameter. */
const BAP_BANDS = ['B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B11', 'B12'];

/** A start/end date or date-time, or null for an open end (openEO's temporal interval items). */
const TEMPORAL_INSTANT = {
  anyOf: [{ type: 'string', format: 'date-time' }, { type: 'string', format: 'date' }, { type: 'null' }],
};

/**
 * Signature of the APEx `bap_composite` UDP: parameter names, schemas and
 * defaults as published. Its result has one band per entry of `bands`.
 */
export const BAP_COMPOSITE_UDP: UdpDefinition = {
  id: 'bap_composite',
  parameters: [
    { name: 'geometry', schema: { type: 'object', subtype: 'geojson' } },
    {
      name: 'temporal_extent',
      schema: {
        type: 'array',
        subtype: 'temporal-interval',
        uniqueItems: true,
        minItems: 2,
        maxItems: 2,
        items: TEMPORAL_INSTANT,
      },
    },
    {
      name: 'bands',
      optional: true,
      default: ['B04', 'B03', 'B02'],
      schema: { type: 'array', minItems: 1, items: { type: 'string', enum: BAP_BANDS } },
    },
    { name: 'max_cloud_cover', optional: true, default: 75, schema: { type: 'integer', minimum: 0, maximum: 100 } },
  ],
  resultBandsParameter: 'bands',
};

/** Registry used when the emulator is started without `udpRegistry`. */
export const DEFAULT_UDP_REGISTRY: UdpRegistry = {
  [BAP_COMPOSITE_NAMESPACE]: BAP_COMPOSITE_UDP,
};
