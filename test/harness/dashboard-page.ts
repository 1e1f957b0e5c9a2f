/** Serving a dashboard on a free local port, and reading its page in the browser (tests and bench). */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import type { DashboardHandler } from '../../src/app/dashboard';

export interface ServedDashboard {
  url: string;
  close(): Promise<void>;
}

export async function serveDashboard(handler: DashboardHandler): Promise<ServedDashboard> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    async close() {
      await handler.close();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      // Idle keep-alive connections of a page still open would hold the server up.
      server.closeAllConnections();
      await stopped;
    },
  };
}

/*
 * The page's side, typed structurally: the project compiles without the DOM's types (they would
 * leak into Node code), so the few browser objects these functions touch are described here.
 */
interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}
interface Canvas {
  width: number;
  height: number;
  getBoundingClientRect(): Box;
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
    fillStyle: string;
  } | null;
}
interface PageTile {
  view: { tileId: string; mapStatus: string; openeoJobId?: string };
  layer: { getCenter(): unknown };
}
interface PageGlobals {
  document: { querySelector(selector: string): Canvas | null; createElement(tag: 'canvas'): Canvas };
  openeoDashboard: {
    /** Set once the page knows which batch it shows. */
    tileMap?: {
      tiles: Map<string, PageTile>;
      map: {
        latLngToContainerPoint(p: unknown): { x: number; y: number };
        getContainer(): { getBoundingClientRect(): Box };
      };
    };
    stats: PageStats;
  };
}

export interface PageStats {
  snapshots: number;
  updates: number;
  /** When the first snapshot arrived, ms after navigation. */
  snapshotMs?: number;
  /** When the first tiles were painted, ms after navigation; null while painting. */
  firstPaintMs?: number | null;
}

/** What the page drew for a tile: its colour at the tile's centre on the map's canvas, and where that is. */
export interface DrawnTile {
  tileId: string;
  mapStatus: string;
  openeoJobId?: string;
  /** `[r, g, b]` of the canvas at the tile's centre. */
  rgb: [number, number, number];
  /** The centre in page coordinates (for the mouse). */
  x: number;
  y: number;
}

/** Every tile the page drew, read from its map and canvas pixels. */
export async function drawnTiles(page: Page): Promise<DrawnTile[]> {
  return page.evaluate(() => {
    const { document, openeoDashboard } = globalThis as unknown as PageGlobals;
    if (!openeoDashboard?.tileMap) return [];
    const { tiles, map } = openeoDashboard.tileMap;
    const canvas = document.querySelector('.leaflet-overlay-pane canvas');
    if (!canvas) return [];
    const context = canvas.getContext('2d')!;
    const canvasBox = canvas.getBoundingClientRect();
    const mapBox = map.getContainer().getBoundingClientRect();
    return [...tiles.values()].map(({ view, layer }) => {
      const point = map.latLngToContainerPoint(layer.getCenter());
      const x = mapBox.left + point.x;
      const y = mapBox.top + point.y;
      const px = Math.round(((x - canvasBox.left) * canvas.width) / canvasBox.width);
      const py = Math.round(((y - canvasBox.top) * canvas.height) / canvasBox.height);
      const data = context.getImageData(px, py, 1, 1).data;
      const rgb: [number, number, number] = [data[0]!, data[1]!, data[2]!];
      return { tileId: view.tileId, mapStatus: view.mapStatus, openeoJobId: view.openeoJobId, rgb, x, y };
    });
  });
}

/** CSS colour names as `[r, g, b]`, as the browser resolves them. */
export async function rgbOfColours(
  page: Page,
  colours: Record<string, string>,
): Promise<Record<string, [number, number, number]>> {
  return page.evaluate((named) => {
    const context = (globalThis as unknown as PageGlobals).document.createElement('canvas').getContext('2d')!;
    const out: Record<string, [number, number, number]> = {};
    for (const [status, colour] of Object.entries(named)) {
      context.fillStyle = colour;
      const hex = context.fillStyle;
      out[status] = [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)];
    }
    return out;
  }, colours);
}

export async function pageStats(page: Page): Promise<PageStats> {
  return page.evaluate(() => ({ ...(globalThis as unknown as PageGlobals).openeoDashboard.stats }));
}
