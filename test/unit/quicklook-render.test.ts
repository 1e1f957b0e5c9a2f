/**
 * The rendering behind result quicklooks, without files: the picture's size, which bands it
 * shows, and the 2–98 % percentile stretch the users' notebooks apply (numpy's
 * `nanpercentile`, nodata left out).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  chooseBands,
  isData,
  percentileStretch,
  quicklookSize,
  renderQuicklook,
  stretchToByte,
} from '../../activities/quicklook-render';

describe('quicklook size', () => {
  it('scales the long side down to 512 px and keeps the aspect ratio', () => {
    assert.deepEqual(quicklookSize(10980, 10980), { width: 512, height: 512 });
    assert.deepEqual(quicklookSize(2000, 1000), { width: 512, height: 256 });
    assert.deepEqual(quicklookSize(600, 1800), { width: 171, height: 512 });
  });

  it('never scales a small raster up, and keeps at least one pixel on each side', () => {
    assert.deepEqual(quicklookSize(64, 64), { width: 64, height: 64 });
    assert.deepEqual(quicklookSize(5000, 3, 512), { width: 512, height: 1 });
  });

  it('refuses an empty raster', () => {
    assert.throws(() => quicklookSize(0, 10), RangeError);
  });
});

describe('quicklook band choice', () => {
  it('shows one or two bands as the first band in grey', () => {
    assert.deepEqual(chooseBands(1), { mode: 'grey', bands: [0] });
    assert.deepEqual(chooseBands(2, ['B08', 'B04']), { mode: 'grey', bands: [0] });
  });

  it('shows bands 1–3 as red, green and blue when the bands have no colour names', () => {
    assert.deepEqual(chooseBands(3), { mode: 'rgb', bands: [0, 1, 2] });
    assert.deepEqual(chooseBands(5, ['B08', 'B11', 'B12', 'B8A', 'SCL']), { mode: 'rgb', bands: [0, 1, 2] });
  });

  it('picks the bands named red, green and blue, wherever they are', () => {
    assert.deepEqual(chooseBands(4, ['nir', 'Blue', 'green', 'RED']), { mode: 'rgb', bands: [3, 2, 1] });
    // Sentinel-2 band ids, as the BAP composite names its bands.
    assert.deepEqual(chooseBands(3, ['B02', 'B03', 'B04']), { mode: 'rgb', bands: [2, 1, 0] });
  });

  it('falls back to bands 1–3 when one of the three colours is not named', () => {
    assert.deepEqual(chooseBands(3, ['B04', 'B03', 'B08']), { mode: 'rgb', bands: [0, 1, 2] });
  });
});

describe('quicklook stretch', () => {
  it('stretches over the 2nd and 98th percentile, interpolated as numpy does', () => {
    // np.percentile(np.arange(1, 11), [2, 98]) == [1.18, 9.82]
    const range = percentileStretch(
      Float64Array.from({ length: 10 }, (_, i) => i + 1),
      null,
    );
    assert.ok(range);
    assert.ok(Math.abs(range.low - 1.18) < 1e-9 && Math.abs(range.high - 9.82) < 1e-9, JSON.stringify(range));
  });

  it('leaves nodata and NaN out of the percentiles', () => {
    const values = [NaN, -9999, -9999, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, NaN];
    const range = percentileStretch(values, -9999);
    assert.ok(range);
    assert.ok(Math.abs(range.low - 1.18) < 1e-9 && Math.abs(range.high - 9.82) < 1e-9, JSON.stringify(range));
    assert.equal(percentileStretch([NaN, -9999], -9999), null);
  });

  it('also knows a nodata value as a float32 band holds it', () => {
    assert.equal(isData(Math.fround(-3.4e38), -3.4e38), false);
    assert.equal(isData(0, null), true);
  });

  it('maps the range onto 0–255, clamping values outside it', () => {
    const range = { low: 100, high: 200 };
    assert.equal(stretchToByte(50, range), 0);
    assert.equal(stretchToByte(100, range), 0);
    assert.equal(stretchToByte(150, range), 128);
    assert.equal(stretchToByte(200, range), 255);
    assert.equal(stretchToByte(1e6, range), 255);
  });

  it('shows a band of one value as mid-grey, and rare values beside it as black or white', () => {
    const range = { low: 0, high: 0 };
    assert.equal(stretchToByte(0, range), 128);
    assert.equal(stretchToByte(1, range), 255);
    assert.equal(stretchToByte(-1, range), 0);
  });
});

describe('quicklook rendering', () => {
  const width = 4;
  const height = 3;
  const ramp = (offset: number) => Float64Array.from({ length: width * height }, (_, i) => offset + i * 10);

  it('renders one band as grey (R = G = B), opaque where there is data', () => {
    const picture = renderQuicklook([ramp(0)], width, height, null);
    assert.equal(picture.rgba.length, width * height * 4);
    for (let i = 0; i < width * height; i++) {
      const [r, g, b, a] = picture.rgba.subarray(i * 4, i * 4 + 4);
      assert.ok(r === g && g === b, `pixel ${i}: ${[r, g, b]}`);
      assert.equal(a, 255);
    }
    assert.equal(picture.rgba[0], 0, 'the lowest value is black');
    assert.equal(picture.rgba[(width * height - 1) * 4], 255, 'the highest value is white');
  });

  it('stretches each band of an RGB picture on its own', () => {
    // The same ramp at three very different levels gives the same grey ramp once each band is stretched.
    const picture = renderQuicklook([ramp(0), ramp(5000), ramp(-300)], width, height, null);
    for (let i = 0; i < width * height; i++) {
      const [r, g, b] = picture.rgba.subarray(i * 4, i * 4 + 3);
      assert.ok(r === g && g === b, `pixel ${i}: ${[r, g, b]}`);
    }
    assert.deepEqual(
      picture.stretch.map((range) => Math.round(range!.low)),
      [2, 5002, -298],
    );
  });

  it('colours a pixel by the bands in red, green, blue order', () => {
    const up = ramp(0);
    const down = up.map((v) => -v);
    const picture = renderQuicklook([up, down, up], width, height, null);
    const last = (width * height - 1) * 4;
    assert.deepEqual([...picture.rgba.subarray(0, 3)], [0, 255, 0]);
    assert.deepEqual([...picture.rgba.subarray(last, last + 3)], [255, 0, 255]);
  });

  it('makes a pixel transparent when any shown band has no data there', () => {
    const red = ramp(0);
    const green = ramp(0);
    green[5] = -1;
    const blue = ramp(0);
    blue[7] = NaN;
    const picture = renderQuicklook([red, green, blue], width, height, -1);
    const alpha = Array.from({ length: width * height }, (_, i) => picture.rgba[i * 4 + 3]);
    assert.deepEqual(
      alpha.map((a, i) => (a === 0 ? i : -1)).filter((i) => i >= 0),
      [5, 7],
    );
  });

  it('refuses planes that do not fit the picture', () => {
    assert.throws(() => renderQuicklook([ramp(0), ramp(0)], width, height, null), /1 or 3 bands/);
    assert.throws(() => renderQuicklook([new Float64Array(5)], width, height, null), /expected 12 values/);
  });
});
