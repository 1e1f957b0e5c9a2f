/** The project's one atomic writer (src/core/write-atomically.ts, over write-file-atomic). */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeFileAtomically } from '../../src/core/write-atomically';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'write-atomically-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomically', () => {
  it('writes just the viewed bytes of a Uint8Array that is a window on a larger buffer', async () => {
    const file = join(dir, 'window.bin');
    const whole = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    await writeFileAtomically(file, whole.subarray(2, 5));
    assert.deepEqual([...(await readFile(file))], [3, 4, 5]);
  });

  it('replaces a file with a given mode, and concurrent writes leave one whole version and no temporary files', async () => {
    const file = join(dir, 'token.json');
    await writeFile(file, 'old', { mode: 0o644 });
    const versions = Array.from({ length: 20 }, (_, i) => JSON.stringify({ version: i, padding: 'x'.repeat(10_000) }));
    await Promise.all(versions.map((text) => writeFileAtomically(file, text, { mode: 0o600 })));
    assert.ok(versions.includes(await readFile(file, 'utf8')), 'the file is one of the versions, whole');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(
      (await readdir(dir)).filter((name) => name.startsWith('token.json')),
      ['token.json'],
    );
  });

  it('fails on a missing folder and leaves nothing behind', async () => {
    await assert.rejects(writeFileAtomically(join(dir, 'missing', 'x.json'), '{}'), { code: 'ENOENT' });
    assert.deepEqual(await readdir(dir).then((names) => names.filter((name) => name.startsWith('missing'))), []);
  });
});
