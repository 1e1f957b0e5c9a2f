/**
 * Unit tests of the emulator's building blocks that are awkward to reach
 * through HTTP alone: area extraction, graph validation, UDP resolution,
 * range parsing, log levels, routing, the PRNG, the GeoTIFF encoder and
 * the bands of a result.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { fromArrayBuffer } from 'geotiff';

import { findArea, findProjectedExtent, findTemporalExtent } from '../../src/tools/emulator/area';
import { ManualClock } from '../../src/tools/emulator/clock';
import { ApiError } from '../../src/tools/emulator/errors';
import { FailurePolicy, seededRandom } from '../../src/tools/emulator/failure';
import { encodeGeoTiff } from '../../src/tools/emulator/geotiff';
import { JobLog } from '../../src/tools/emulator/logs';
import { resolveRemoteProcesses, validateProcess, type ProcessGraph } from '../../src/tools/emulator/process-graph';
import { composeHooks, type RequestHookContext } from '../../src/tools/emulator/hooks';
import { SeededRandom } from '../../src/tools/emulator/random';
import { resultBandNames } from '../../src/tools/emulator/result-bands';
import { parseRange } from '../../src/tools/emulator/result-routes';
import { Router, type Route } from '../../src/tools/emulator/router';
import { BAP_COMPOSITE_NAMESPACE, DEFAULT_UDP_REGISTRY } from '../../src/tools/emulator/udp-registry';

function graph(nodes: Record<string, unknown>): ProcessGraph {
  return validateProcess({ process_graph: nodes });
}

function expectApiError(fn: () => unknown, code: string): void {
  assert.throws(fn, (error: unknown) => error instanceof ApiError && error.code === code);
}

describe('emulator internals: job area', () => {
  it('unions geometries found anywhere, including inside callbacks', () => {
    const g = graph({
      load: {
        process_id: 'load_collection',
        arguments: { id: 'S2', spatial_extent: { west: 1, south: 2, east: 3, north: 4 } },
      },
      apply: {
        process_id: 'apply_dimension',
        arguments: {
          data: { from_node: 'load' },
          process: {
            process_graph: {
              inner: {
                process_id: 'filter_spatial',
                arguments: {
                  geometries: { type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [10, -5] } },
                },
                result: true,
              },
            },
          },
        },
        result: true,
      },
    });
    assert.deepEqual(findArea(g), { west: 1, south: -5, east: 10, north: 4 });
  });

  it('reads MultiPolygons, GeometryCollections and ignores non-geometries', () => {
    const g = graph({
      a: {
        process_id: 'x',
        arguments: {
          geometries: {
            type: 'GeometryCollection',
            geometries: [
              {
                type: 'MultiPolygon',
                coordinates: [
                  [
                    [
                      [0, 0],
                      [1, 0],
                      [1, 1],
                      [0, 0],
                    ],
                  ],
                  [
                    [
                      [5, 5],
                      [6, 5],
                      [6, 7],
                      [5, 5],
                    ],
                  ],
                ],
              },
              {
                type: 'LineString',
                coordinates: [
                  [-2, 3],
                  [0, 0],
                ],
              },
            ],
          },
          not_geo: { type: 'Polygon', coordinates: 'nope' },
          numbers: [1, 2, 3],
        },
        result: true,
      },
    });
    assert.deepEqual(findArea(g), { west: -2, south: 0, east: 6, north: 7 });
  });

  it('reprojects UTM bounding boxes (EPSG:32631 given as number, string or URI)', () => {
    for (const crs of [32631, 'EPSG:32631', 'http://www.opengis.net/def/crs/EPSG/0/32631']) {
      const area = findArea(
        graph({
          a: {
            process_id: 'x',
            arguments: { e: { west: 500000, south: 5600000, east: 510000, north: 5610000, crs } },
            result: true,
          },
        }),
      );
      assert.ok(area, `no area for crs ${crs}`);
      // Easting 500 km is the central meridian of zone 31 (3°E).
      assert.ok(Math.abs(area.west - 3) < 1e-6, `west ${area.west}`);
      assert.ok(area.east > 3.1 && area.east < 3.2, `east ${area.east}`);
      assert.ok(area.south > 50.5 && area.north < 50.7, `lat ${area.south}..${area.north}`);
    }
  });

  it('has no area when none is given or the CRS is unknown', () => {
    assert.equal(findArea(graph({ a: { process_id: 'x', arguments: {}, result: true } })), null);
    const unknownCrs = graph({
      a: {
        process_id: 'x',
        arguments: { e: { west: 0, south: 0, east: 1, north: 1, crs: 'EPSG:2056' } },
        result: true,
      },
    });
    assert.equal(findArea(unknownCrs), null);
  });

  it('finds the temporal extent', () => {
    const g = graph({
      a: { process_id: 'load_collection', arguments: { temporal_extent: ['2024-01-01', null] }, result: true },
    });
    assert.deepEqual(findTemporalExtent(g), ['2024-01-01', null]);
  });
});

describe('emulator internals: process graph checks', () => {
  it('requires exactly one result node in callbacks too', () => {
    expectApiError(
      () =>
        graph({
          a: {
            process_id: 'reduce_dimension',
            arguments: { reducer: { process_graph: { m: { process_id: 'median', arguments: {} } } } },
            result: true,
          },
        }),
      'ProcessGraphInvalid',
    );
  });

  it('rejects nodes without process_id and non-object graphs', () => {
    expectApiError(() => graph({ a: { arguments: {}, result: true } }), 'ProcessGraphInvalid');
    expectApiError(() => validateProcess({ process_graph: [] }), 'ProcessGraphInvalid');
    expectApiError(() => validateProcess(null), 'ProcessGraphMissing');
  });

  it('resolves registered UDPs: defaults make optional parameters optional', () => {
    const ok = graph({
      bap: {
        process_id: 'bap_composite',
        namespace: BAP_COMPOSITE_NAMESPACE,
        arguments: { geometry: {}, temporal_extent: ['2024-06-01', '2024-09-01'] },
        result: true,
      },
    });
    assert.equal(resolveRemoteProcesses(ok, DEFAULT_UDP_REGISTRY), null);
  });

  it('reports unsupported arguments and mismatching process ids', () => {
    const extra = graph({
      bap: {
        process_id: 'bap_composite',
        namespace: BAP_COMPOSITE_NAMESPACE,
        arguments: { geometry: {}, temporal_extent: [], resolution: 10 },
        result: true,
      },
    });
    assert.equal(resolveRemoteProcesses(extra, DEFAULT_UDP_REGISTRY)?.code, 'ProcessParameterUnsupported');
    const wrongId = graph({
      bap: { process_id: 'other', namespace: BAP_COMPOSITE_NAMESPACE, arguments: {}, result: true },
    });
    assert.equal(resolveRemoteProcesses(wrongId, DEFAULT_UDP_REGISTRY)?.code, 'ProcessUnsupported');
  });

  it('finds UDP calls nested in callbacks and ignores non-URL namespaces', () => {
    const nested = graph({
      outer: {
        process_id: 'apply',
        namespace: 'backend',
        arguments: {
          process: {
            process_graph: {
              bap: {
                process_id: 'bap_composite',
                namespace: BAP_COMPOSITE_NAMESPACE,
                arguments: { geometry: {} },
                result: true,
              },
            },
          },
        },
        result: true,
      },
    });
    const failure = resolveRemoteProcesses(nested, DEFAULT_UDP_REGISTRY);
    assert.equal(failure?.code, 'ProcessParameterRequired');
    assert.equal(failure?.nodeId, 'bap');
  });
});

describe('emulator internals: byte ranges', () => {
  it('parses the supported forms', () => {
    assert.equal(parseRange(undefined, 100), null);
    assert.deepEqual(parseRange('bytes=0-9', 100), { start: 0, end: 9 });
    assert.deepEqual(parseRange('bytes=90-', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=-10', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=95-200', 100), { start: 95, end: 99 });
    assert.deepEqual(parseRange('bytes=-500', 100), { start: 0, end: 99 });
  });

  it('flags unsatisfiable ranges and ignores unsupported ones', () => {
    assert.equal(parseRange('bytes=100-', 100), 'unsatisfiable');
    assert.equal(parseRange('bytes=5-2', 100), 'unsatisfiable');
    assert.equal(parseRange('bytes=-0', 100), 'unsatisfiable');
    assert.equal(parseRange('bytes=0-1,5-6', 100), null);
    assert.equal(parseRange('items=0-1', 100), null);
  });
});

describe('emulator internals: logs, routing, randomness', () => {
  it('does not store entries below the job log level', () => {
    const log = new JobLog('warning');
    assert.equal(log.append('info', 'dropped'), undefined);
    log.append('warning', 'kept');
    log.append('error', 'bad', { code: 'X' });
    assert.deepEqual(
      log.query({ afterId: 0, minLevel: 'debug', limit: undefined }).entries.map((e) => e.message),
      ['kept', 'bad'],
    );
    assert.equal(log.lastError()?.code, 'X');
  });

  it('matches templates, ignores a trailing slash and reports allowed methods', () => {
    const noop = () => undefined;
    const routes: Route[] = [
      { method: 'GET', path: '/api/', auth: false, listed: false, handler: noop },
      { method: 'GET', path: '/api/jobs/{job_id}', auth: true, listed: true, handler: noop },
      { method: 'DELETE', path: '/api/jobs/{job_id}', auth: true, listed: true, handler: noop },
    ];
    const router = new Router(routes);
    assert.equal(router.match('GET', '/api').kind, 'found');
    const found = router.match('HEAD', '/api/jobs/a%20b/');
    assert.ok(found.kind === 'found');
    assert.deepEqual(found.params, { job_id: 'a b' });
    const wrong = router.match('POST', '/api/jobs/x');
    assert.ok(wrong.kind === 'method-not-allowed');
    assert.deepEqual(wrong.allowed, ['GET', 'DELETE']);
    assert.equal(router.match('GET', '/api/jobs').kind, 'not-found');
  });

  it('produces reproducible random sequences per seed', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const first = Array.from({ length: 5 }, () => a());
    assert.deepEqual(
      first,
      Array.from({ length: 5 }, () => b()),
    );
    assert.ok(first.every((x) => x >= 0 && x < 1));
    assert.notDeepEqual(first, Array.from({ length: 5 }, seededRandom(43)));
    assert.notEqual(seededRandom(0)(), 0);
  });
});

describe('emulator internals: failure policy', () => {
  const job = (title: string | null) => ({
    id: 'j-1',
    owner: 'demo',
    title,
    description: null,
    process: {},
    options: {},
  });
  const settings = { failTitlesContaining: [] as string[], errorProbability: 0, seed: 1, failJobHooks: [] };

  it('never fails by default and always fails with probability 1', () => {
    const never = new FailurePolicy(settings);
    assert.ok(Array.from({ length: 50 }, () => never.decide(job('t'))).every((v) => v === null));
    const always = new FailurePolicy({ ...settings, errorProbability: 1 });
    assert.equal(always.decide(job('t'))?.code, 'Internal');
  });

  it('repeats the same failure pattern for the same seed', () => {
    const pattern = (seed: number) => {
      const policy = new FailurePolicy({ ...settings, errorProbability: 0.5, seed });
      return Array.from({ length: 40 }, () => policy.decide(job('t')) !== null);
    };
    const first = pattern(7);
    assert.deepEqual(pattern(7), first);
    const failures = first.filter(Boolean).length;
    assert.ok(failures > 5 && failures < 35, `${failures} of 40 failed at p=0.5`);
  });

  it('matches title substrings and hook verdicts', () => {
    const policy = new FailurePolicy({
      ...settings,
      failTitlesContaining: ['tile-7'],
      failJobHooks: [(j) => (j.title === 'hooked' ? 'hook says no' : null)],
    });
    assert.match(policy.decide(job('batch tile-7 of 9'))?.message ?? '', /tile-7/);
    assert.deepEqual(policy.decide(job('hooked')), { code: 'Internal', message: 'hook says no' });
    assert.equal(policy.decide(job('tile-8')), null);
    assert.equal(policy.decide(job(null)), null);
  });
});

describe('emulator internals: GeoTIFF encoder', () => {
  it('round-trips a non-square raster with its georeferencing', async () => {
    const pixels = Uint16Array.from([1, 2, 3, 40000, 5, 6]);
    const bytes = encodeGeoTiff({
      width: 3,
      height: 2,
      pixels,
      bbox: { west: -10, south: 20, east: -7, north: 22 },
      noData: 0,
    });
    const tiff = await fromArrayBuffer(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    );
    const image = await tiff.getImage();
    assert.equal(image.getWidth(), 3);
    assert.equal(image.getHeight(), 2);
    assert.deepEqual(image.getBoundingBox(), [-10, 20, -7, 22]);
    assert.deepEqual(image.getResolution(), [1, -1, 0]);
    assert.equal(image.getGDALNoData(), 0);
    assert.equal(image.getSampleFormat(), 1);
    assert.equal(image.getBitsPerSample(), 16);
    const keys = image.getGeoKeys();
    assert.equal(keys?.GTModelTypeGeoKey, 2);
    assert.equal(keys?.GeographicTypeGeoKey, 4326);
    const [band] = (await image.readRasters()) as unknown as Uint16Array[];
    assert.deepEqual([...band], [...pixels]);
  });

  it('writes a multi-band UTM raster a GeoTIFF reader takes apart again: bands, dtype, CRS, grid, nodata, names', async () => {
    const bands = [
      Uint16Array.from([1, 2, 3, 4, 5, 6]),
      Uint16Array.from([60000, 0, 7, 8, 9, 10]),
      Uint16Array.from([11, 12, 13, 14, 15, 16]),
    ];
    const bandNames = ['B04', 'B03', 'NDVI'];
    const bbox = { west: 590000, south: 5660000, east: 590030, north: 5660020 };
    const bytes = encodeGeoTiff({ width: 3, height: 2, pixels: bands, bandNames, bbox, epsg: 32631, noData: 0 });
    const image = await (
      await fromArrayBuffer(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer)
    ).getImage();
    assert.equal(image.getSamplesPerPixel(), 3);
    for (let band = 0; band < 3; band++) {
      assert.equal(image.getBitsPerSample(band), 16);
      assert.equal(image.getSampleFormat(band), 1, 'unsigned integer');
      assert.equal((await image.getGDALMetadata(band))?.DESCRIPTION, bandNames[band]);
    }
    assert.deepEqual(image.getGeoKeys(), {
      GTModelTypeGeoKey: 1,
      GTRasterTypeGeoKey: 1,
      ProjectedCSTypeGeoKey: 32631,
      ProjLinearUnitsGeoKey: 9001,
    });
    // ModelTiepoint puts the upper-left corner at (west, north); ModelPixelScale gives 10 m pixels.
    assert.deepEqual(image.getOrigin(), [590000, 5660020, 0]);
    assert.deepEqual(image.getResolution(), [10, -10, 0]);
    assert.deepEqual(image.getBoundingBox(), [590000, 5660000, 590030, 5660020]);
    assert.equal(image.getGDALNoData(), 0);
    const read = (await image.readRasters()) as unknown as Uint16Array[];
    assert.deepEqual(
      read.map((band) => [...band]),
      bands.map((band) => [...band]),
    );
  });

  it('rejects a pixel count that does not match the size', () => {
    assert.throws(
      () =>
        encodeGeoTiff({
          width: 2,
          height: 2,
          pixels: new Uint16Array(3),
          bbox: { west: 0, south: 0, east: 1, north: 1 },
        }),
      RangeError,
    );
  });
});

describe('emulator internals: clock, random streams, hooks, projected rasters', () => {
  it('fires manual-clock timers in due order, including timers set while advancing', () => {
    const clock = new ManualClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 200);
    clock.setTimeout(() => {
      fired.push(`a@${clock.now()}`);
      clock.setTimeout(() => fired.push(`c@${clock.now()}`), 50);
    }, 100);
    const cancelled = clock.setTimeout(() => fired.push('never'), 10);
    clock.clearTimeout(cancelled);
    clock.advance(160);
    assert.deepEqual(fired, ['a@1100', 'c@1150']);
    assert.equal(clock.now(), 1160);
    clock.advance(1000);
    assert.deepEqual(fired, ['a@1100', 'c@1150', 'b@1200']);
    assert.equal(clock.pending, 0);
  });

  it('continues a random stream from its saved state; salts give independent streams', () => {
    const a = new SeededRandom(5, 1);
    a.next();
    const saved = a.state;
    const expected = [a.next(), a.next()];
    const b = new SeededRandom(5, 1);
    b.state = saved;
    assert.deepEqual([b.next(), b.next()], expected);
    assert.notEqual(new SeededRandom(5, 2).next(), new SeededRandom(5, 1).next());
  });

  it('composes hooks: the first that handles wins, the first beforeSend is kept', async () => {
    const calls: string[] = [];
    const send = () => true;
    const hook = composeHooks([
      { beforeRoute: () => void calls.push('first') },
      { beforeRoute: () => (calls.push('second'), { beforeSend: send }) },
      { beforeRoute: () => (calls.push('third'), { handled: true }) },
      { beforeRoute: () => void calls.push('never') },
    ]);
    const outcome = await hook.beforeRoute({} as RequestHookContext);
    assert.deepEqual(calls, ['first', 'second', 'third']);
    assert.equal(outcome?.handled, true);
    const passThrough = await composeHooks([{ beforeRoute: () => ({ beforeSend: send }) }, undefined]).beforeRoute(
      {} as RequestHookContext,
    );
    assert.equal(passThrough?.beforeSend, send);
  });

  it('finds the first projected bounding box and encodes a projected GeoTIFF', async () => {
    const g = graph({
      a: {
        process_id: 'x',
        arguments: {
          geometry: { type: 'Point', coordinates: [4, 51] },
          e: { west: 1, south: 2, east: 3, north: 4, crs: 32631 },
        },
        result: true,
      },
    });
    assert.deepEqual(findProjectedExtent(g), { epsg: 32631, bbox: { west: 1, south: 2, east: 3, north: 4 } });
    assert.equal(
      findProjectedExtent(
        graph({ a: { process_id: 'x', arguments: { e: { west: 1, south: 2, east: 3, north: 4 } }, result: true } }),
      ),
      null,
    );

    const bytes = encodeGeoTiff({
      width: 2,
      height: 2,
      pixels: new Uint16Array(4),
      bbox: { west: 500000, south: 5600000, east: 500020, north: 5600020 },
      epsg: 32631,
    });
    const image = await (
      await fromArrayBuffer(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer)
    ).getImage();
    assert.equal(image.getGeoKeys()?.GTModelTypeGeoKey, 1);
    assert.equal(image.getGeoKeys()?.ProjectedCSTypeGeoKey, 32631);
    assert.deepEqual(image.getBoundingBox(), [500000, 5600000, 500020, 5600020]);
    assert.deepEqual(image.getResolution(), [10, -10, 0]);
  });
});

describe('emulator internals: the bands of a result', () => {
  /** load_collection of B04 and B08, reduced over `dimension` with a median, as the openEO Python client writes it. */
  const reducedOver = (dimension: string) =>
    graph({
      load: {
        process_id: 'load_collection',
        arguments: { id: 'SENTINEL2_L2A', spatial_extent: null, temporal_extent: null, bands: ['B04', 'B08'] },
      },
      reduce: {
        process_id: 'reduce_dimension',
        arguments: {
          data: { from_node: 'load' },
          dimension,
          reducer: {
            process_graph: {
              m: { process_id: 'median', arguments: { data: { from_parameter: 'data' } }, result: true },
            },
          },
        },
      },
      save: { process_id: 'save_result', arguments: { data: { from_node: 'reduce' }, format: 'GTiff' }, result: true },
    });

  it('keeps every band through a reduction over time, as a temporal composite does on a real backend', () => {
    assert.deepEqual(resultBandNames(reducedOver('t'), DEFAULT_UDP_REGISTRY), ['B04', 'B08']);
  });

  it('has one unnamed band after a reduction over the bands, or over a dimension it does not know', () => {
    assert.equal(resultBandNames(reducedOver('bands'), DEFAULT_UDP_REGISTRY), null);
    assert.equal(resultBandNames(reducedOver('x'), DEFAULT_UDP_REGISTRY), null);
  });
});
