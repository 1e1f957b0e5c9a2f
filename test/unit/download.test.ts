/**
 * Result downloads against a small local HTTP server: a file is only in place when it is whole
 * and matches its checksum, an interrupted one resumes with Range, and no asset key or tile id
 * can write outside the tile's folder.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { downloadAsset, DownloadError } from '../../activities/download';
import { assetFileName } from '../../activities/results';
import { tileFolder } from '../../activities/tile-output';

const body = Buffer.from(Array.from({ length: 50_000 }, (_, i) => i % 251));
const sha256 = `1220${createHash('sha256').update(body).digest('hex')}`;
/** Large enough that hashing the part already on disk takes longer than the server's cut. */
const big = Buffer.alloc(48 * 1024 * 1024, 7);

describe('verified downloads', () => {
  let server: Server;
  let base: string;
  let dir: string;
  const ranges: (string | undefined)[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'openeo-temporal-download-'));
    server = createServer((req, res) => {
      ranges.push(req.headers.range);
      if (req.url === '/cut-early' && !req.headers.range) {
        // The first bytes arrive with the headers, then the connection ends: a cut right at the start.
        res.writeHead(200, { 'Content-Length': body.length });
        res.write(body.subarray(0, 1000), () => res.socket?.end());
        return;
      }
      if (req.url === '/short') {
        // Promises the whole file, sends half, and hangs up.
        res.writeHead(200, { 'Content-Length': body.length });
        res.end(body.subarray(0, body.length / 2));
        return;
      }
      const match = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      const start = match ? Number(match[1]) : 0;
      res.writeHead(match ? 206 : 200, { 'Content-Length': body.length - start, 'Accept-Ranges': 'bytes' });
      res.end(body.subarray(start));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  after(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the file only when size and checksum match', async () => {
    const target = join(dir, 'ok.tif');
    const bytes = await downloadAsset(`${base}/ok`, target, {
      headers: {},
      idleTimeoutMs: 5000,
      size: body.length,
      checksum: sha256,
    });
    assert.equal(bytes, body.length);
    assert.deepEqual(await readFile(target), body);
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.endsWith('.part')),
      [],
    );
  });

  it('refuses a file whose checksum differs, leaving nothing in place', async () => {
    const target = join(dir, 'bad.tif');
    const wrong = `1220${'0'.repeat(64)}`;
    await assert.rejects(
      downloadAsset(`${base}/ok`, target, { headers: {}, idleTimeoutMs: 5000, size: body.length, checksum: wrong }),
      (err: unknown) => {
        assert.ok(err instanceof DownloadError);
        assert.equal(err.code, 'ChecksumMismatch');
        return true;
      },
    );
    assert.ok(!(await readdir(dir)).some((f) => f.startsWith('bad.tif')));
  });

  it('verifies an MD5 multihash (d50110 and the digest) and writes the file', async () => {
    const target = join(dir, 'md5.tif');
    const md5 = `d50110${createHash('md5').update(body).digest('hex')}`;
    assert.equal(
      await downloadAsset(`${base}/ok`, target, { headers: {}, idleTimeoutMs: 5000, size: body.length, checksum: md5 }),
      body.length,
    );
    assert.deepEqual(await readFile(target), body);
    const wrong = `d50110${'0'.repeat(32)}`;
    await assert.rejects(
      downloadAsset(`${base}/ok`, join(dir, 'md5-wrong.tif'), {
        headers: {},
        idleTimeoutMs: 5000,
        size: body.length,
        checksum: wrong,
      }),
      /checksum does not match/,
    );
  });

  it('keeps a file whose checksum is malformed on its size alone, and refuses one of another size', async () => {
    const malformed = `d510${Buffer.from(createHash('md5').update(body).digest('hex'), 'ascii').toString('hex')}`;
    const target = join(dir, 'malformed.tif');
    assert.equal(
      await downloadAsset(`${base}/ok`, target, {
        headers: {},
        idleTimeoutMs: 5000,
        size: body.length,
        checksum: malformed,
      }),
      body.length,
    );
    assert.deepEqual(await readFile(target), body);
    await assert.rejects(
      downloadAsset(`${base}/ok`, join(dir, 'malformed-long.tif'), {
        headers: {},
        idleTimeoutMs: 5000,
        size: body.length - 1,
        checksum: malformed,
      }),
      (err: unknown) => {
        assert.ok(err instanceof DownloadError);
        assert.equal(err.code, 'SizeMismatch');
        return true;
      },
    );
  });

  it('resumes a cut download with a Range request and verifies the whole', async () => {
    const target = join(dir, 'resumed.tif');
    await writeFile(`${target}.part`, body.subarray(0, 20_000));
    ranges.length = 0;
    await downloadAsset(`${base}/ok`, target, {
      headers: {},
      idleTimeoutMs: 5000,
      size: body.length,
      checksum: sha256,
    });
    assert.deepEqual(ranges, ['bytes=20000-']);
    assert.deepEqual(await readFile(target), body);
  });

  it('keeps a short file as a part to resume, and does not call it done', async () => {
    const target = join(dir, 'short.tif');
    await assert.rejects(
      downloadAsset(`${base}/short`, target, { headers: {}, idleTimeoutMs: 5000, size: body.length, checksum: sha256 }),
    );
    const files = await readdir(dir);
    assert.ok(!files.includes('short.tif'));
  });

  it('resumes with Range even when the connection ended right after the first bytes', async () => {
    const target = join(dir, 'cut-early.tif');
    const options = { headers: {}, idleTimeoutMs: 5000, size: body.length, checksum: sha256 };
    await assert.rejects(downloadAsset(`${base}/cut-early`, target, options));
    ranges.length = 0;
    await downloadAsset(`${base}/cut-early`, target, options);
    assert.deepEqual(ranges, ['bytes=1000-'], 'the bytes that arrived were kept and the rest asked for');
    assert.deepEqual(await readFile(target), body);
  });
});

describe('cuts while the part on disk is still being read', () => {
  it('keeps the bytes that arrived while the existing part was hashed, so every try makes progress', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'openeo-temporal-slow-cut-'));
    const server = createServer((req, res) => {
      const from = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
      res.writeHead(206, {
        'Content-Length': big.length - from,
        'Content-Range': `bytes ${from}-${big.length - 1}/${big.length}`,
      });
      res.write(big.subarray(from, from + 1000), () => setTimeout(() => res.socket?.end(), 30));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/big`;
    try {
      const target = join(dir, 'big.tif');
      const before = big.length - 10_000;
      await writeFile(`${target}.part`, big.subarray(0, before));
      const checksum = `1220${createHash('sha256').update(big).digest('hex')}`;
      await assert.rejects(
        downloadAsset(url, target, { headers: {}, idleTimeoutMs: 5000, size: big.length, checksum }),
      );
      assert.equal((await stat(`${target}.part`)).size, before + 1000, 'the 1,000 bytes of the cut answer are on disk');
    } finally {
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('hostile asset keys and ids', () => {
  it('keeps asset files inside the tile folder whatever the key says', () => {
    const taken = new Set<string>();
    const names = [
      '../../etc/passwd',
      '/abs/path/x.tif',
      'C:\\windows\\evil.tif',
      '..',
      'a b?c*.tif',
      'job.json',
      '.hidden',
    ].map((key, i) => assetFileName(key, i, taken));
    assert.deepEqual(names, ['passwd', 'x.tif', 'evil.tif', 'asset-3', 'a_b_c_.tif', 'asset-5', 'hidden']);
    const tileDir = resolve('/data/out/batch/tile');
    for (const name of names) assert.ok(resolve(tileDir, name).startsWith(tileDir + sep), name);
  });

  it('never lets an asset take the name of a file the worker writes itself', () => {
    const taken = new Set<string>();
    // `quicklook` is the item key of the worker's own quicklook.
    const names = ['job.json', 'error-logs.json', 'previews/quicklook.png', 'quicklook.json', 'quicklook'].map(
      (key, i) => assetFileName(key, i, taken),
    );
    assert.deepEqual(names, ['asset-0', 'asset-1', 'asset-2', 'asset-3', 'asset-4']);
  });

  it('gives two assets with the same file name different files', () => {
    const taken = new Set<string>();
    assert.notEqual(assetFileName('a/result.tif', 0, taken), assetFileName('b/result.tif', 1, taken));
  });

  it('refuses a batch or tile id that would climb out of the output folder', () => {
    const place = (batchId: string, tileId: string) => ({
      outputDir: '/data/out',
      batchId,
      tileId,
      backend: { name: 'b', url: 'http://b' },
      jobId: 'j-1',
    });
    assert.throws(() => tileFolder(place('..', 'x')), /leave/);
    assert.throws(() => tileFolder(place('batch', '../../etc')), /leave/);
    assert.equal(tileFolder(place('batch', 'E1-N2')).location, resolve('/data/out/batch/E1-N2'));
  });
});
