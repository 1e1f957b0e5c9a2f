/**
 * The page's files, all served by the dashboard itself so it works offline: its HTML, script and
 * styles (shipped in the package under `src/app/dashboard/static/`) and Leaflet's from its npm
 * package. Read once, at start; nothing else on disk is reachable through these URLs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { dirname, extname, join, resolve } from 'node:path';

/** `src/app/dashboard/static` of the package, from `dist/src/app/dashboard`. */
const STATIC_DIR = resolve(__dirname, '..', '..', '..', '..', 'src', 'app', 'dashboard', 'static');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
};

export interface Asset {
  body: Buffer;
  type: string;
}

/** URL path (relative to the dashboard's root) → file. */
export type Assets = ReadonlyMap<string, Asset>;

export function loadAssets(): Assets {
  const leaflet = dirname(require.resolve('leaflet/dist/leaflet.js'));
  const files: [string, string][] = [
    ...servable(STATIC_DIR).map((name) => [`/static/${name}`, join(STATIC_DIR, name)] as [string, string]),
    ['/vendor/leaflet/leaflet.js', join(leaflet, 'leaflet.js')],
    ['/vendor/leaflet/leaflet.css', join(leaflet, 'leaflet.css')],
    // Leaflet's stylesheet names these (layer switcher, markers).
    ...servable(join(leaflet, 'images')).map(
      (name) => [`/vendor/leaflet/images/${name}`, join(leaflet, 'images', name)] as [string, string],
    ),
  ];
  const assets = new Map<string, Asset>();
  for (const [url, path] of files) assets.set(url, { body: readFileSync(path), type: TYPES[extname(path)]! });
  const page = assets.get('/static/index.html');
  if (!page)
    throw new Error(
      `the dashboard's page is missing: ${join(STATIC_DIR, 'index.html')} (a broken install? reinstall openeo-temporal)`,
    );
  assets.set('/', page);
  return assets;
}

function servable(dir: string): string[] {
  try {
    return readdirSync(dir).filter((name) => TYPES[extname(name)] !== undefined);
  } catch (err) {
    throw new Error(
      `the dashboard's files are missing in ${dir} (a broken install? reinstall openeo-temporal): ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
}

export function sendAsset(asset: Asset, res: ServerResponse, headers: Record<string, string> = {}): void {
  res
    .writeHead(200, {
      'content-type': asset.type,
      'content-length': asset.body.length,
      'cache-control': 'no-cache',
      ...headers,
    })
    .end(asset.body);
}

/**
 * The page may load only from the dashboard (and the basemap's tile server, when one is set):
 * the browser itself then refuses anything external.
 */
export function contentSecurityPolicy(basemap?: string): string {
  const tiles = basemap ? ` ${basemapOrigin(basemap)}` : '';
  return `default-src 'self'; img-src 'self' data:${tiles}; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'self'`;
}

/** `https://{s}.tile.example.org/{z}/{x}/{y}.png` → `https://*.tile.example.org`. */
function basemapOrigin(template: string): string {
  const match = /^(https?:\/\/)([^/]+)/.exec(template);
  if (!match)
    throw new Error(
      `basemap: "${template}" is not an http(s) URL template like https://tile.example.org/{z}/{x}/{y}.png`,
    );
  return `${match[1]}${match[2]!.replace(/\{s\}/g, '*')}`;
}
