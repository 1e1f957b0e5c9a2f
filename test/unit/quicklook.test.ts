/**
 * Quicklooks of result GeoTIFFs on disk, as the download activity makes them: real GeoTIFFs
 * (written by the emulator's encoder, read by geotiff.js), real PNGs (decoded again with pngjs),
 * and corners reprojected with proj4.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PNG } from 'pngjs';
import proj4 from 'proj4';
import { makeQuicklook, quicklookSource, type QuicklookInfo } from '../../activities/quicklook';
import { encodeGeoTiff, syntheticPixels } from '../../src/tools/emulator/geotiff';

const UTM31N = '+proj=utm +zone=31 +datum=WGS84 +units=m +no_defs';
const TILE = { west: 590000, south: 5660000, east: 595000, north: 5665000 };
const GEOTIFF = 'image/tiff; application=geotiff';

/** A uint16 GeoTIFF over `TILE` in UTM 31N unless told otherwise. */
function tiff(
  width: number,
  height: number,
  bandNames: string[],
  options: { noData?: number; epsg?: number; pixels?: Uint16Array[] } = {},
): Buffer {
  const pixels = options.pixels ?? bandNames.map((name) => syntheticPixels(width, height, `job/${name}`));
  return encodeGeoTiff({
    width,
    height,
    pixels,
    bandNames,
    bbox: TILE,
    epsg: options.epsg ?? 32631,
    ...(options.noData !== undefined ? { noData: options.noData } : {}),
  });
}

/**
 * `full` (an encoded GeoTIFF) with a second image appended as its overview: a reduced-resolution
 * subfile (NewSubfileType 1) of one uint16 band, as GDAL writes a COG's overviews.
 */
function withOverview(full: Buffer, width: number, height: number, pixels: Uint16Array): Buffer {
  const entries: [number, number, number][] = [
    // [tag, type (3 SHORT, 4 LONG), value]; every value fits in its entry.
    [254, 4, 1],
    [256, 4, width],
    [257, 4, height],
    [258, 3, 16],
    [259, 3, 1],
    [262, 3, 1],
    [273, 4, 0],
    [277, 3, 1],
    [278, 4, height],
    [279, 4, width * height * 2],
    [339, 3, 1],
  ];
  const ifdAt = full.length + (full.length % 2);
  const stripAt = ifdAt + 2 + entries.length * 12 + 4;
  entries[6][2] = stripAt;
  const out = Buffer.alloc(stripAt + pixels.length * 2);
  full.copy(out);
  out.writeUInt16LE(entries.length, ifdAt);
  entries.forEach(([tag, type, value], i) => {
    const at = ifdAt + 2 + i * 12;
    out.writeUInt16LE(tag, at);
    out.writeUInt16LE(type, at + 2);
    out.writeUInt32LE(1, at + 4);
    if (type === 3) out.writeUInt16LE(value, at + 8);
    else out.writeUInt32LE(value, at + 8);
  });
  pixels.forEach((value, i) => out.writeUInt16LE(value, stripAt + i * 2));
  // The first image's "next IFD" pointer, after its entries, now leads to the overview.
  const firstIfd = out.readUInt32LE(4);
  out.writeUInt32LE(ifdAt, firstIfd + 2 + out.readUInt16LE(firstIfd) * 12);
  return out;
}

function decode(bytes: Buffer): PNG {
  return PNG.sync.read(bytes);
}

/** Distinct RGBA colours of a picture. */
function colours(png: PNG): Set<number> {
  const seen = new Set<number>();
  for (let i = 0; i < png.width * png.height; i++) seen.add(png.data.readUInt32BE(i * 4));
  return seen;
}

describe('result quicklooks', () => {
  let root: string;
  let count = 0;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'openeo-temporal-quicklook-'));
  });
  after(async () => rm(root, { recursive: true, force: true }));

  /** A fresh tile folder holding `files`. */
  async function tileWith(files: Record<string, Buffer>): Promise<string> {
    const dir = join(root, `tile-${++count}`);
    await mkdir(dir);
    for (const [name, bytes] of Object.entries(files)) await writeFile(join(dir, name), bytes);
    return dir;
  }

  it('makes an RGB quicklook.png of a 3-band GeoTIFF and places it with its corners in EPSG:4326', async () => {
    const dir = await tileWith({ 'openEO.tif': tiff(300, 150, ['B02', 'B03', 'B04']) });
    const outcome = await makeQuicklook(dir, [{ file: 'openEO.tif', type: GEOTIFF, roles: ['data'] }]);
    assert.equal(outcome.status, 'made', JSON.stringify(outcome));
    assert.deepEqual(outcome.files, ['quicklook.png', 'quicklook.json']);

    const png = decode(await readFile(join(dir, 'quicklook.png')));
    assert.equal(png.width, 300);
    assert.equal(png.height, 150);
    assert.ok(colours(png).size > 100, `a picture, not a flat colour (${colours(png).size} colours)`);
    const info = JSON.parse(await readFile(join(dir, 'quicklook.json'), 'utf8')) as QuicklookInfo;
    assert.equal(info.mode, 'rgb');
    assert.deepEqual(
      info.bands.map((b) => [b.band, b.name]),
      [
        [3, 'B04'],
        [2, 'B03'],
        [1, 'B02'],
      ],
    );
    assert.equal(info.crs, 'EPSG:32631');
    const expected = [
      [TILE.west, TILE.north],
      [TILE.east, TILE.north],
      [TILE.east, TILE.south],
      [TILE.west, TILE.south],
    ].map((c) => proj4(UTM31N, 'EPSG:4326', c));
    info.corners.forEach((corner, i) => {
      assert.ok(
        Math.abs(corner[0] - expected[i][0]) < 1e-7 && Math.abs(corner[1] - expected[i][1]) < 1e-7,
        `corner ${i}: ${corner} vs ${expected[i]}`,
      );
    });
    const [west, south, east, north] = info.bbox;
    assert.ok(
      west < east && south < north && west > 4.2 && east < 4.4 && south > 51 && north < 51.2,
      `bbox ${info.bbox}`,
    );
  });

  it('downsamples a large raster to 512 px on its long side, the same however many reads it takes', async () => {
    const dir = await tileWith({ 'big.tif': tiff(1300, 700, ['a', 'b', 'c']) });
    const assets = [{ file: 'big.tif', type: GEOTIFF }];
    assert.equal((await makeQuicklook(dir, assets)).status, 'made');
    const whole = await readFile(join(dir, 'quicklook.png'));
    const rowsDone: number[] = [];
    const outcome = await makeQuicklook(dir, assets, { readBudget: 20_000, onRows: (rows) => rowsDone.push(rows) });
    assert.equal(outcome.status, 'made');
    const png = decode(await readFile(join(dir, 'quicklook.png')));
    assert.deepEqual([png.width, png.height], [512, 276]);
    assert.ok(rowsDone.length > 10, `read in many parts (${rowsDone.length})`);
    assert.equal(rowsDone.at(-1), 276);
    assert.ok((await readFile(join(dir, 'quicklook.png'))).equals(whole), 'reading in parts gives the same picture');
  });

  it('reads a coarse overview instead of the full raster when the file has one', async () => {
    // The full raster rises from west to east, its overview from north to south: the picture tells which was read.
    const full = Uint16Array.from({ length: 1024 * 1024 }, (_, i) => 100 + (i % 1024));
    const overview = Uint16Array.from({ length: 256 * 256 }, (_, i) => 100 + Math.floor(i / 256));
    const dir = await tileWith({
      'cog.tif': withOverview(tiff(1024, 1024, ['a'], { pixels: [full] }), 256, 256, overview),
    });
    const greyAt = (png: PNG, x: number, y: number) => png.data[(y * png.width + x) * 4];

    assert.equal((await makeQuicklook(dir, [{ file: 'cog.tif', type: GEOTIFF }], { maxSide: 200 })).status, 'made');
    const small = decode(await readFile(join(dir, 'quicklook.png')));
    assert.deepEqual([small.width, small.height], [200, 200]);
    assert.ok(
      greyAt(small, 0, 0) === greyAt(small, 199, 0) && greyAt(small, 0, 0) < greyAt(small, 0, 199),
      'rises north to south: the overview',
    );

    assert.equal((await makeQuicklook(dir, [{ file: 'cog.tif', type: GEOTIFF }], { maxSide: 300 })).status, 'made');
    const larger = decode(await readFile(join(dir, 'quicklook.png')));
    assert.ok(
      greyAt(larger, 0, 0) === greyAt(larger, 0, 299) && greyAt(larger, 0, 0) < greyAt(larger, 299, 0),
      'rises west to east: the full raster',
    );
  });

  it('shows a single band in grey (R = G = B)', async () => {
    const dir = await tileWith({ 'ndvi.tif': tiff(80, 60, ['NDVI']) });
    const outcome = await makeQuicklook(dir, [{ file: 'ndvi.tif', type: GEOTIFF }]);
    assert.equal(outcome.status, 'made');
    assert.equal(outcome.info.mode, 'grey');
    const png = decode(await readFile(join(dir, 'quicklook.png')));
    assert.ok(colours(png).size > 10);
    for (let i = 0; i < png.width * png.height; i++) {
      const [r, g, b] = png.data.subarray(i * 4, i * 4 + 3);
      assert.ok(r === g && g === b, `pixel ${i}: ${[r, g, b]}`);
    }
  });

  it('leaves nodata pixels transparent', async () => {
    const band = syntheticPixels(20, 10, 'job');
    band.fill(0, 0, 20); // the first row is nodata
    const dir = await tileWith({ 'r.tif': tiff(20, 10, ['x'], { pixels: [band], noData: 0 }) });
    assert.equal((await makeQuicklook(dir, [{ file: 'r.tif', type: GEOTIFF }])).status, 'made');
    const png = decode(await readFile(join(dir, 'quicklook.png')));
    const alpha = Array.from({ length: 200 }, (_, i) => png.data[i * 4 + 3]);
    assert.deepEqual(new Set(alpha.slice(0, 20)), new Set([0]));
    assert.deepEqual(new Set(alpha.slice(20)), new Set([255]));
  });

  it("makes none for a corrupt GeoTIFF, and removes an earlier attempt's quicklook", async () => {
    const broken = tiff(64, 64, ['a']).subarray(0, 200);
    const dir = await tileWith({
      'openEO.tif': broken,
      'quicklook.png': Buffer.from('old'),
      'quicklook.json': Buffer.from('{}'),
    });
    const outcome = await makeQuicklook(dir, [{ file: 'openEO.tif', type: GEOTIFF, roles: ['data'] }]);
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.status === 'failed' ? outcome.reason : '', /openEO\.tif cannot be shown as a quicklook/);
    assert.deepEqual(await readdir(dir), ['openEO.tif']);
  });

  it('makes none for a raster in a CRS it cannot reproject, naming the CRS', async () => {
    const dir = await tileWith({ 'l93.tif': tiff(8, 8, ['a'], { epsg: 2154 }) });
    const outcome = await makeQuicklook(dir, [{ file: 'l93.tif', type: GEOTIFF }]);
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.status === 'failed' ? outcome.reason : '', /EPSG:2154/);
  });

  it('makes none for a raster without any data value', async () => {
    const dir = await tileWith({ 'empty.tif': tiff(8, 8, ['a'], { pixels: [new Uint16Array(64)], noData: 0 }) });
    const outcome = await makeQuicklook(dir, [{ file: 'empty.tif', type: GEOTIFF }]);
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.status === 'failed' ? outcome.reason : '', /no data values/);
  });

  it('makes none when the results hold no GeoTIFF', async () => {
    const dir = await tileWith({ 'out.nc': Buffer.from('CDF') });
    assert.deepEqual(await makeQuicklook(dir, [{ file: 'out.nc', type: 'application/x-netcdf', roles: ['data'] }]), {
      status: 'none',
      files: [],
    });
  });

  it('shows the GeoTIFF with role data, else the first GeoTIFF', () => {
    const assets = [
      { file: 'result.json', type: 'application/json', roles: ['metadata'] },
      { file: 'a.tif', type: GEOTIFF, roles: ['visual'] },
      { file: 'b.tif', type: GEOTIFF, roles: ['data'] },
    ];
    assert.equal(quicklookSource(assets), 'b.tif');
    assert.equal(quicklookSource(assets.slice(0, 2)), 'a.tif');
    assert.equal(quicklookSource([{ file: 'c.TIFF' }]), 'c.TIFF', 'without a media type, the file name tells');
    assert.equal(quicklookSource([{ file: 'd.tif', type: 'image/png' }]), undefined);
  });
});
