/**
 * The output path template and the local result store: placeholders filled in, templates that
 * would escape `outputDir` refused at the front door with the field and the fix, and local
 * writes that never leave a partial or temporary file behind.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { text } from 'node:stream/consumers';
import { resultStore, StoreError } from '../../activities/store';
import {
  DEFAULT_OUTPUT_PATH,
  outputPathProblems,
  placeOf,
  tileFolderKey,
  tilePeriodId,
} from '../../src/core/batch-spec/output-path';
import { InvalidSpecError, parseBatchSpec } from '../../src/core/batch-spec/validate';

const spec = {
  backends: [{ name: 'emu', url: 'http://localhost:1' }],
  process: { processGraph: { load: { process_id: 'load_collection', arguments: {}, result: true } } },
  tiles: { aoi: { west: 0, south: 0, east: 1, north: 1, crs: 'EPSG:4326' }, tileSize: 1 },
};

function issues(input: unknown): { field: string; problem: string; fix: string }[] {
  try {
    parseBatchSpec(input);
  } catch (err) {
    assert.ok(err instanceof InvalidSpecError);
    return err.issues;
  }
  return [];
}

const values = { batchId: 'b1', tileId: 'E1-N2', backend: 'cdse', jobId: 'j-42' };

describe('output path template', () => {
  it("defaults to today's layout, <batchId>/<tileId>/<file>", () => {
    assert.equal(parseBatchSpec(spec).outputPath, DEFAULT_OUTPUT_PATH);
    assert.equal(tileFolderKey(DEFAULT_OUTPUT_PATH, values), 'b1/E1-N2');
  });

  it("fills in every placeholder of the tile's folder", () => {
    assert.equal(
      tileFolderKey('runs/{backend}/{batchId}/{tileId}/{period}/job-{jobId}/{asset}', { ...values, period: '2024-03' }),
      'runs/cdse/b1/E1-N2/2024-03/job-j-42',
    );
  });

  it("reduces a backend's job id to a safe folder name", () => {
    assert.equal(tileFolderKey('{tileId}/{jobId}/{asset}', { ...values, jobId: '../a/b' }), 'E1-N2/.._a_b');
  });

  it('refuses values that would leave their folder, and a {period} the tile does not have', () => {
    assert.throws(() => tileFolderKey(DEFAULT_OUTPUT_PATH, { ...values, tileId: '..' }), /leave/);
    assert.throws(() => tileFolderKey(DEFAULT_OUTPUT_PATH, { ...values, batchId: 'a/../../x' }), /leave/);
    assert.throws(() => tileFolderKey('{tileId}/{period}/{asset}', values), /no period/);
  });

  it('reads the period id from the tile property, tolerating its absence', () => {
    assert.equal(tilePeriodId({ period: { id: '2024-Q1', start: '2024-01-01', end: '2024-04-01' } }), '2024-Q1');
    assert.equal(tilePeriodId({}), undefined);
    assert.equal(tilePeriodId({ period: 'x' }), undefined);
  });

  it('is refused at the front door when it escapes outputDir or is absolute, naming outputPath and the fix', () => {
    for (const [template, pattern] of [
      ['{batchId}/../{tileId}/{asset}', /"\." or "\.\." folders/],
      ['/data/{tileId}/{asset}', /relative to outputDir/],
      ['C:/x/{tileId}/{asset}', /relative to outputDir/],
      ['s3://b/{tileId}/{asset}', /relative to outputDir/],
      ['{batchId}//{tileId}/{asset}', /empty folder name/],
    ] as const) {
      const found = issues({ ...spec, outputPath: template });
      assert.equal(found.length, 1, template);
      assert.equal(found[0]!.field, 'outputPath');
      assert.match(found[0]!.problem, pattern);
      assert.notEqual(found[0]!.fix, 'correct the value');
    }
  });

  it('needs {tileId} and a last segment that is exactly {asset}', () => {
    assert.match(
      issues({ ...spec, outputPath: '{batchId}/{asset}' })[0]!.problem,
      /must name each tile apart \(\{tileId\}\)/,
    );
    assert.match(issues({ ...spec, outputPath: '{batchId}/{tileId}' })[0]!.problem, /must end with "\/\{asset\}"/);
    assert.match(
      issues({ ...spec, outputPath: '{tileId}/{tileId}_{asset}' })[0]!.problem,
      /must end with "\/\{asset\}"/,
    );
    assert.match(
      issues({ ...spec, outputPath: '{tileId}/{date}/{asset}' })[0]!.problem,
      /unknown placeholder\(s\) \{date\}/,
    );
  });

  it('with periods, takes {tileId} (which carries the period) or {place} with {period}', () => {
    assert.deepEqual(outputPathProblems('{batchId}/{tileId}/{asset}', true), []);
    assert.deepEqual(outputPathProblems('{batchId}/{place}/{period}/{asset}', true), []);
    const placeOnly = outputPathProblems('{batchId}/{place}/{asset}', true);
    assert.match(placeOnly[0]!.problem, /must name each tile apart/);
    assert.match(placeOnly[0]!.fix, /both \{place\} and \{period\}/);
    assert.deepEqual(outputPathProblems('{batchId}/{place}/{asset}', false), []);
    assert.match(issues({ ...spec, outputPath: '{tileId}/{period}/{asset}' })[0]!.problem, /no periods/);
  });

  it('fills {place} with the tile id without its period', () => {
    const values = { batchId: 'b1', tileId: 'E1-N2_2024-03', period: '2024-03', backend: 'cdse', jobId: 'j-42' };
    assert.equal(tileFolderKey('{batchId}/{place}/{period}/{asset}', values), 'b1/E1-N2/2024-03');
    assert.equal(placeOf('E1-N2', undefined), 'E1-N2');
  });

  it('refuses an s3:// outputDir without a valid bucket, naming outputDir', () => {
    const found = issues({ ...spec, outputDir: 's3://Not_A_Bucket/x' });
    assert.equal(found[0]!.field, 'outputDir');
    assert.match(found[0]!.problem, /not a bucket name/);
    assert.deepEqual(issues({ ...spec, outputDir: 's3://my-results/batches/' }), []);
  });
});

describe('local result store', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'openeo-temporal-store-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a document in place, verified, with no temporary file left', async () => {
    const store = resultStore(dir);
    const body = Buffer.from('{"a":1}\n');
    const checksum = `1220${createHash('sha256').update(body).digest('hex')}`;
    assert.deepEqual(await store.put('b/t/job.json', body, { size: body.length, checksum }), { size: body.length });
    assert.deepEqual(await readdir(join(dir, 'b', 't')), ['job.json']);
    assert.equal(await readFile(join(dir, 'b', 't', 'job.json'), 'utf8'), '{"a":1}\n');
    assert.equal(store.location('b/t/job.json'), join(dir, 'b', 't', 'job.json'));
    assert.equal(await store.holds('b/t/job.json', { size: body.length, checksum }), true);
    assert.equal(await text((await store.get('b/t/job.json'))!.body), '{"a":1}\n');
  });

  it('leaves nothing under the final name when the checksum does not match', async () => {
    const store = resultStore(dir);
    const source = join(dir, 'staged.tif');
    await writeFile(source, 'not the promised bytes');
    const wrong = `1220${'0'.repeat(64)}`;
    await assert.rejects(
      store.putFile('b/t2/openEO.tif', source, { checksum: wrong }),
      (err: unknown) => err instanceof StoreError && err.code === 'ChecksumMismatch',
    );
    assert.deepEqual(await readdir(join(dir, 'b', 't2')), []);
    assert.equal(await store.head('b/t2/openEO.tif'), undefined);
  });

  it('refuses keys that climb out of the root', async () => {
    const store = resultStore(dir);
    await assert.rejects(store.put('../evil.json', 'x'), /not a key under the output root/);
    await assert.rejects(store.put('/etc/evil.json', 'x'), /not a key under the output root/);
  });

  it('lists what it holds, relative to the root', async () => {
    const store = resultStore(dir);
    await store.put('list/a/x.json', '1');
    await store.put('list/b/y.json', '2');
    await store.put('list/b/deep/z.json', '3');
    await store.put('list/top.json', '4');
    const all = ['list/a/x.json', 'list/b/deep/z.json', 'list/b/y.json', 'list/top.json'];
    assert.deepEqual(await store.list('list'), all);
    assert.deepEqual(await store.list('list/b'), ['list/b/deep/z.json', 'list/b/y.json']);
    assert.deepEqual(await store.list('nothing-here'), []);
    assert.ok((await store.list('')).includes('list/b/deep/z.json'), 'the root lists keys without a leading slash');
  });
});
