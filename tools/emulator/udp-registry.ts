/**
 * Remote user-defined processes (UDPs) the emulator can "resolve".
 *
 * A real back-end downloads the process definition from the node's
 * `namespace` URL when the job runs; the emulator never goes to the network,
 * it looks the URL up in this registry instead.
 */

/** One declared parameter of a remote process. */
export interface UdpParameter {
  name: string;
  /** Parameters without `optional: true` must be passed as an argument. */
  optional?: boolean;
  default?: unknown;
}

/** The part of a remote process definition the emulator checks calls against. */
export interface UdpDefinition {
  id: string;
  parameters: UdpParameter[];
}

/** Remote process definitions keyed by their namespace URL. */
export type UdpRegistry = Readonly<Record<string, UdpDefinition>>;

/** Namespace URL of the APEx best-available-pixel composite UDP. */
export const BAP_COMPOSITE_NAMESPACE =
  'https://github.com/ESA-APEx/apex_algorithms/raw/refs/heads/main/algorithm_catalog/vito/bap_composite/openeo_udp/bap_composite.json';

/** Signature of the APEx `bap_composite` UDP (parameter names and defaults as published). */
export const BAP_COMPOSITE_UDP: UdpDefinition = {
  id: 'bap_composite',
  parameters: [
    { name: 'geometry' },
    { name: 'temporal_extent' },
    { name: 'bands', optional: true, default: ['B04', 'B03', 'B02'] },
    { name: 'max_cloud_cover', optional: true, default: 75 },
  ],
};

/** Registry used when the emulator is started without `udpRegistry`. */
export const DEFAULT_UDP_REGISTRY: UdpRegistry = {
  [BAP_COMPOSITE_NAMESPACE]: BAP_COMPOSITE_UDP,
};
