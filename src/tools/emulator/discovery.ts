/**
 * Discovery and account endpoints: well-known document, capabilities,
 * conformance, collections, processes, file formats, Basic and OIDC login
 * information, and `/me`.
 */
import { ADMIN_PREFIX, API_PREFIX, API_VERSION, BACKEND_VERSION, CONFORMS_TO, STAC_VERSION } from './constants';
import { COLLECTIONS, FILE_FORMATS, PROCESSES } from './catalog';
import type { EmulatorCore } from './context';
import { ApiError } from './errors';
import type { HttpMethod, Route, RouteContext } from './router';
import type { OidcIssuerOptions } from './oidc-verify';

/** A real provider as `GET /credentials/oidc` lists it (without the emulator-only `audience`). */
function oidcIssuerListing(p: OidcIssuerOptions): Record<string, unknown> {
  return {
    id: p.id,
    issuer: p.issuer,
    title: p.title ?? 'Local OpenID provider',
    scopes: p.scopes ?? ['openid'],
    ...(p.default_clients ? { default_clients: structuredClone(p.default_clients) } : {}),
  };
}

/** Where the stand-in provider's issuer points: the emulator itself, which says there is none. */
export const NO_OIDC_PROVIDER_PATH = `${ADMIN_PREFIX}/no-openid-provider`;

/** What a client that looks for an OpenID provider at an emulator without one is told. */
const NO_OIDC_PROVIDER_MESSAGE =
  'This emulator runs no OpenID provider: log in with Basic (GET /credentials/basic), or start it with `--oidc-provider local` (or `--oidc-issuer <url>`).';

/**
 * Without a provider the emulator takes Basic login only, but the spec wants at least one
 * provider in the answer. It lists a stand-in that says so (id `none`); its issuer is the
 * emulator, whose discovery document there answers 404 with the same words.
 */
function noProviderListing(context: RouteContext): Record<string, unknown> {
  return {
    id: 'none',
    issuer: `${context.origin}${NO_OIDC_PROVIDER_PATH}`,
    title: 'No OpenID provider (Basic login only)',
    description: NO_OIDC_PROVIDER_MESSAGE,
    scopes: ['openid'],
  };
}

/** An entry of the capabilities' `endpoints` list. */
export interface CapabilityEndpoint {
  path: string;
  methods: HttpMethod[];
}

/**
 * Derives the `endpoints` list from the route table, so it always lists
 * exactly what is implemented (the js-client enables features from it).
 */
export function capabilityEndpoints(routes: readonly Route[]): CapabilityEndpoint[] {
  const byPath = new Map<string, HttpMethod[]>();
  for (const route of routes) {
    if (!route.listed || !route.path.startsWith(`${API_PREFIX}/`)) continue;
    const path = route.path.slice(API_PREFIX.length);
    if (path === '/' || path === '') continue; // the capabilities endpoint itself is not listed
    const methods = byPath.get(path) ?? [];
    if (!methods.includes(route.method)) methods.push(route.method);
    byPath.set(path, methods);
  }
  return [...byPath.entries()].map(([path, methods]) => ({ path, methods }));
}

function apiUrl(context: RouteContext, path = ''): string {
  return `${context.origin}${API_PREFIX}${path}`;
}

function collectionWithLinks(context: RouteContext, collection: Record<string, unknown>): Record<string, unknown> {
  const self = apiUrl(context, `/collections/${encodeURIComponent(String(collection.id))}`);
  return {
    ...collection,
    links: [
      { rel: 'self', href: self, type: 'application/json' },
      { rel: 'root', href: apiUrl(context, '/'), type: 'application/json' },
      { rel: 'parent', href: apiUrl(context, '/collections'), type: 'application/json' },
    ],
  };
}

/** Routes of this module; `allRoutes` is read lazily to build the capabilities. */
export function discoveryRoutes(core: EmulatorCore, allRoutes: () => readonly Route[]): Route[] {
  return [
    {
      method: 'GET',
      path: '/.well-known/openeo',
      auth: false,
      listed: false,
      handler: (context) =>
        context.writer.json(200, {
          versions: [{ url: apiUrl(context), api_version: API_VERSION, production: true }],
        }),
    },
    {
      method: 'GET',
      path: `${API_PREFIX}/`,
      auth: false,
      listed: false,
      handler: (context) =>
        context.writer.json(200, {
          api_version: API_VERSION,
          backend_version: BACKEND_VERSION,
          stac_version: STAC_VERSION,
          type: 'Catalog',
          id: 'openeo-emulator',
          title: 'openEO API emulator',
          description: 'Local emulation of an openEO back-end for testing batch-job clients. Results are synthetic.',
          production: true,
          conformsTo: [...CONFORMS_TO],
          endpoints: capabilityEndpoints(allRoutes()),
          billing: { currency: 'credits' },
          links: [
            { rel: 'self', href: apiUrl(context, '/'), type: 'application/json' },
            { rel: 'version-history', href: `${context.origin}/.well-known/openeo`, type: 'application/json' },
            { rel: 'conformance', href: apiUrl(context, '/conformance'), type: 'application/json' },
            { rel: 'data', href: apiUrl(context, '/collections'), type: 'application/json' },
          ],
        }),
    },
    {
      method: 'GET',
      path: `${API_PREFIX}/conformance`,
      auth: false,
      listed: true,
      handler: (context) => context.writer.json(200, { conformsTo: [...CONFORMS_TO] }),
    },
    {
      method: 'GET',
      path: `${API_PREFIX}/credentials/oidc`,
      auth: false,
      // Advertised only with a real provider; without one it lists the stand-in (see noProviderListing).
      listed: core.settings.oidcProviders.length + core.settings.oidcIssuers.length > 0,
      handler: (context) => {
        const providers = [
          ...core.settings.oidcProviders.map((p) => ({ ...structuredClone(p), scopes: p.scopes ?? ['openid'] })),
          ...core.settings.oidcIssuers.map(oidcIssuerListing),
        ];
        context.writer.json(200, { providers: providers.length > 0 ? providers : [noProviderListing(context)] });
      },
    },
    {
      method: 'GET',
      path: `${NO_OIDC_PROVIDER_PATH}/.well-known/openid-configuration`,
      auth: false,
      listed: false,
      handler: () => {
        throw new ApiError('NotFound', NO_OIDC_PROVIDER_MESSAGE);
      },
    },
    {
      method: 'GET',
      path: `${API_PREFIX}/credentials/basic`,
      auth: false,
      listed: true,
      handler: (context) => context.writer.json(200, core.auth.loginBasic(context.req.headers.authorization)),
    },
    {
      method: 'GET',
      path: `${API_PREFIX}/me`,
      auth: true,
      listed: true,
      handler: (context) =>
        context.writer.json(200, {
          user_id: context.user,
          name: context.user,
          default_plan: 'free',
          budget: null,
          storage: null,
          links: [],
        }),
    },
    {
      method: 'GET',
      path: `${API_PREFIX}/collections`,
      auth: false,
      listed: true,
      handler: (context) =>
        context.writer.json(200, {
          collections: COLLECTIONS.map((c) => collectionWithLinks(context, c)),
          links: [{ rel: 'self', href: apiUrl(context, '/collections'), type: 'application/json' }],
        }),
    },
    {
      method: 'GET',
      path: `${API_PREFIX}/collections/{collection_id}`,
      auth: false,
      listed: true,
      handler: (context) => {
        const collection = COLLECTIONS.find((c) => c.id === context.params.collection_id);
        if (!collection) {
          throw new ApiError('CollectionNotFound', `Collection '${context.params.collection_id}' does not exist.`);
        }
        context.writer.json(200, collectionWithLinks(context, collection));
      },
    },
    {
      method: 'GET',
      path: `${API_PREFIX}/processes`,
      auth: false,
      listed: true,
      handler: (context) =>
        context.writer.json(200, {
          processes: PROCESSES,
          links: [{ rel: 'self', href: apiUrl(context, '/processes'), type: 'application/json' }],
        }),
    },
    {
      method: 'GET',
      path: `${API_PREFIX}/file_formats`,
      auth: false,
      listed: true,
      handler: (context) => context.writer.json(200, FILE_FORMATS),
    },
  ];
}
