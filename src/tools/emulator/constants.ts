/** Fixed facts of the emulated API surface. */

/** openEO API version implemented. */
export const API_VERSION = '1.2.0';

/** Path prefix of the versioned API; the well-known document points here. */
export const API_PREFIX = '/openeo/1.2';

/** Path prefix of the emulator's own admin API (never listed in capabilities). */
export const ADMIN_PREFIX = '/_emulator';

/** STAC version of collections and result metadata. */
export const STAC_VERSION = '1.0.0';

/** Version reported as `backend_version`. */
export const BACKEND_VERSION = '0.1.0-emulator';

/** Media type of the GeoTIFF result assets. */
export const GEOTIFF_MEDIA_TYPE = 'image/tiff; application=geotiff';

/** Conformance classes, served by `GET /conformance` and in the capabilities' `conformsTo`. */
export const CONFORMS_TO: readonly string[] = [
  `https://api.openeo.org/${API_VERSION}`,
  // Processes referenced by a URL in `namespace` are resolved (see udp-registry.ts).
  'https://api.openeo.org/extensions/remote-process-definition/0.1.0',
];
