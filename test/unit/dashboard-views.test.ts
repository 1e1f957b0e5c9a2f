/**
 * The map's pure parts: which colour a tile gets, where a preview goes, the page's
 * content security policy (offline unless a basemap is set). No server.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { contentSecurityPolicy } from '../../src/app/dashboard/assets';
import { outlinesForMap } from '../../src/app/dashboard/outline';
import { quicklookBounds } from '../../src/app/dashboard/previews';
import { mapStatus, outlineBounds, temporalWorkflowUrl, tileView } from '../../src/app/dashboard/tile-view';
import type { TileRow } from '../../src/core/records';

test("running tiles are coloured by the backend's job status, failed starts apart from failed jobs", () => {
  assert.equal(mapStatus({ status: 'not_started' }), 'not_started');
  assert.equal(mapStatus({ status: 'running' }), 'created', 'a tile creating its job');
  assert.equal(mapStatus({ status: 'running', backendStatus: 'created' }), 'created');
  assert.equal(mapStatus({ status: 'running', backendStatus: 'queued' }), 'queued');
  assert.equal(mapStatus({ status: 'running', backendStatus: 'running' }), 'running');
  assert.equal(mapStatus({ status: 'running', backendStatus: 'finished' }), 'running', 'downloading its results');
  assert.equal(mapStatus({ status: 'finished', backendStatus: 'finished' }), 'finished');
  assert.equal(mapStatus({ status: 'error', backendStatus: 'error' }), 'error');
  assert.equal(mapStatus({ status: 'error', backendStatus: 'created' }), 'start_failed', 'the job never started');
  assert.equal(mapStatus({ status: 'error' }), 'start_failed', 'no job could be created');
  assert.equal(mapStatus({ status: 'skipped' }), 'skipped');
  assert.equal(mapStatus({ status: 'canceled', backendStatus: 'running' }), 'canceled');
});

const square: NonNullable<TileRow['geometry']> = {
  type: 'Polygon',
  coordinates: [
    [
      [4, 51],
      [4.2, 51],
      [4.2, 51.1],
      [4, 51.1],
      [4, 51],
    ],
  ],
};

test("a finished tile's preview lies where its quicklook.json says, else on its outline", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'openeo-temporal-preview-'));
  try {
    const row: TileRow = {
      batchId: 'b',
      tileId: 't/1',
      status: 'finished',
      attempts: 1,
      outputDir: dir,
      files: ['openEO.tif', 'quicklook.png', 'quicklook.json'],
      geometry: square,
      workflowId: 'b/tile-t/1',
      finishedAt: '2024-06-01T12:00:00Z',
    };
    await writeFile(join(dir, 'quicklook.json'), JSON.stringify({ bbox: [3.99, 50.99, 4.21, 51.11] }));
    assert.deepEqual(await quicklookBounds(row), [3.99, 50.99, 4.21, 51.11]);
    assert.equal(
      await quicklookBounds({ ...row, files: ['quicklook.png'] }),
      undefined,
      'a file the record does not list is not read',
    );
    await writeFile(join(dir, 'quicklook.json'), '{"bbox": "nowhere"}');
    assert.equal(await quicklookBounds(row), undefined, 'a bbox that is not four numbers');

    const context = {
      uiUrl: 'http://ui.local:8233/',
      namespace: 'default',
      previewUrl: (r: TileRow) => `q/${r.tileId}`,
    };
    const view = tileView(row, context, false);
    assert.deepEqual(view.preview, { url: 'q/t/1', bounds: [4, 51, 4.2, 51.1] }, 'on the outline');
    assert.equal(view.geometry, undefined, 'the outline is sent once');
    assert.equal(view.temporalUrl, 'http://ui.local:8233/namespaces/default/workflows/b%2Ftile-t%2F1');
    assert.deepEqual(tileView(row, { ...context, previewBounds: [1, 2, 3, 4] }, true).preview?.bounds, [1, 2, 3, 4]);
    assert.equal(
      tileView({ ...row, files: ['openEO.tif'] }, context, true).preview,
      undefined,
      'no quicklook listed, no preview',
    );
    assert.equal(tileView({ ...row, status: 'error' }, context, true).preview, undefined, 'only finished tiles');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('outlines of polygons and multipolygons have their bounding box', () => {
  assert.deepEqual(outlineBounds(square), [4, 51, 4.2, 51.1]);
  assert.deepEqual(
    outlineBounds({
      type: 'MultiPolygon',
      coordinates: [
        square.coordinates as number[][][],
        [
          [
            [5, 52],
            [5.1, 52],
            [5.1, 52.5],
            [5, 52],
          ],
        ],
      ],
    }),
    [4, 51, 5.1, 52.5],
  );
  assert.equal(outlineBounds(null), undefined);
  assert.equal(
    temporalWorkflowUrl('http://127.0.0.1:8233', 'my ns', 'a/b'),
    'http://127.0.0.1:8233/namespaces/my%20ns/workflows/a%2Fb',
  );
});

test('the page loads nothing but from its server, unless a basemap is set', () => {
  const offline = contentSecurityPolicy();
  assert.match(offline, /default-src 'self'/);
  assert.match(offline, /img-src 'self' data:;/);
  assert.match(offline, /connect-src 'self'/);
  assert.match(
    contentSecurityPolicy('https://{s}.tile.example.org/{z}/{x}/{y}.png'),
    /img-src 'self' data: https:\/\/\*\.tile\.example\.org;/,
  );
  assert.throws(() => contentSecurityPolicy('tiles/{z}/{x}/{y}.png'), /basemap: .* is not an http\(s\) URL template/);
});

test('outlines with densified edges are drawn with their corners only', async () => {
  // A 1 km UTM tile in lon/lat: each side carries points that lie on it within millimetres.
  const side = (from: number[], to: number[]) =>
    Array.from({ length: 8 }, (_, i) => [
      from[0]! + ((to[0]! - from[0]!) * i) / 8,
      from[1]! + ((to[1]! - from[1]!) * i) / 8,
    ]);
  const [a, b, c, d] = [
    [3, 50.55],
    [3.0141, 50.5519],
    [3.0142, 50.5609],
    [3.0001, 50.561],
  ];
  const ring = [...side(a!, b!), ...side(b!, c!), ...side(c!, d!), ...side(d!, a!), a!];
  const bent = [...ring.slice(0, 4), [3.007, 50.5495], ...ring.slice(5)];
  const [plain, notch, none] = await outlinesForMap([
    {
      batchId: 'b',
      tileId: 'square',
      status: 'not_started',
      attempts: 0,
      geometry: { type: 'Polygon', coordinates: [ring] },
    },
    {
      batchId: 'b',
      tileId: 'notch',
      status: 'not_started',
      attempts: 0,
      geometry: { type: 'Polygon', coordinates: [bent] },
    },
    { batchId: 'b', tileId: 'none', status: 'not_started', attempts: 0, geometry: null },
  ]);
  assert.deepEqual(
    (plain!.geometry as { coordinates: number[][][] }).coordinates[0],
    [a, b, c, d, a],
    'the four corners',
  );
  assert.ok(
    (notch!.geometry as { coordinates: number[][][] }).coordinates[0]!.some(
      ([lon, lat]) => lon === 3.007 && lat === 50.5495,
    ),
    'a real bend is kept',
  );
  assert.equal(none!.geometry, null);
  assert.equal(ring.length, 33, 'the input had every point');
});
