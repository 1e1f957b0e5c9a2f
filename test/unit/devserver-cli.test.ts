import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  FALLBACK_GO_TOOLCHAIN,
  TEMPORAL_CLI_GO_PACKAGE,
  TEMPORAL_CLI_VERSION,
  cachedTemporalCliPath,
  ensureTemporalCli,
  findTemporalCli,
  temporalCacheDir,
} from '../../src/tools/devserver';
import { withFileLock } from '../../src/tools/devserver/file-lock';

// Lookup order and the build flow, without the network: `go` is replaced by a script
// that behaves like a Go too old for the CLI's go.mod unless GOTOOLCHAIN asks for a newer one.

let scratch: string;

async function writeExecutable(file: string, content: string): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
  await chmod(file, 0o755);
  return file;
}

before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'devserver-cli-test-'));
});

after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('temporalCacheDir', () => {
  it('prefers OPENEO_TEMPORAL_CACHE_DIR, then XDG_CACHE_HOME, then ~/.cache', () => {
    assert.equal(temporalCacheDir({ OPENEO_TEMPORAL_CACHE_DIR: '/x/cache', XDG_CACHE_HOME: '/xdg' }), '/x/cache');
    assert.equal(temporalCacheDir({ XDG_CACHE_HOME: '/xdg', HOME: '/home/u' }), '/xdg/openeo-temporal');
    assert.equal(temporalCacheDir({ HOME: '/home/u' }), '/home/u/.cache/openeo-temporal');
    assert.equal(cachedTemporalCliPath({ HOME: '/home/u' }), '/home/u/.cache/openeo-temporal/bin/temporal');
  });
});

describe('findTemporalCli', () => {
  it('honours TEMPORAL_CLI_PATH before the cache and PATH', async () => {
    const explicit = await writeExecutable(path.join(scratch, 'explicit', 'temporal'), '#!/bin/sh\n');
    const cacheDir = path.join(scratch, 'cache-with-binary');
    await writeExecutable(path.join(cacheDir, 'bin', 'temporal'), '#!/bin/sh\n');
    const env = { TEMPORAL_CLI_PATH: explicit, OPENEO_TEMPORAL_CACHE_DIR: cacheDir, PATH: '' };
    assert.equal(findTemporalCli({ env }), explicit);
  });

  it('names TEMPORAL_CLI_PATH when it is not executable', async () => {
    const notExecutable = path.join(scratch, 'not-executable');
    await writeFile(notExecutable, 'plain text');
    for (const value of [notExecutable, path.join(scratch, 'missing')]) {
      assert.throws(() => findTemporalCli({ env: { TEMPORAL_CLI_PATH: value, PATH: '' } }), /TEMPORAL_CLI_PATH/);
    }
  });

  it('uses the cache directory, then PATH', async () => {
    const cacheDir = path.join(scratch, 'cache-with-binary');
    const onPath = await writeExecutable(path.join(scratch, 'path-dir', 'temporal'), '#!/bin/sh\n');
    const pathDir = path.dirname(onPath);
    assert.equal(
      findTemporalCli({ env: { OPENEO_TEMPORAL_CACHE_DIR: cacheDir, PATH: pathDir } }),
      path.join(cacheDir, 'bin', 'temporal'),
    );
    const emptyCache = path.join(scratch, 'empty-cache');
    assert.equal(findTemporalCli({ env: { OPENEO_TEMPORAL_CACHE_DIR: emptyCache, PATH: pathDir } }), onPath);
    assert.equal(findTemporalCli({ env: { OPENEO_TEMPORAL_CACHE_DIR: emptyCache, PATH: '' } }), undefined);
  });
});

describe('ensureTemporalCli building from Go modules', () => {
  it('explains how to get Go when it is missing', async () => {
    const env = { OPENEO_TEMPORAL_CACHE_DIR: path.join(scratch, 'no-go-cache'), PATH: path.join(scratch, 'empty') };
    await assert.rejects(ensureTemporalCli({ env }), (error: Error) => {
      assert.match(error.message, /Install Go ≥ 1\.23/);
      assert.match(error.message, /TEMPORAL_CLI_PATH/);
      return true;
    });
  });

  it('builds once for concurrent callers, retrying with a newer toolchain when Go is too old', async () => {
    const fakeGoDir = path.join(scratch, 'fake-go');
    const invocations = path.join(scratch, 'go-invocations.log');
    await writeExecutable(
      path.join(fakeGoDir, 'go'),
      [
        '#!/bin/sh',
        `echo "$* GOTOOLCHAIN=$GOTOOLCHAIN" >> "${invocations}"`,
        'if [ "$1" = version ]; then echo "go version go1.22.2 linux/amd64"; exit 0; fi',
        `if [ "$GOTOOLCHAIN" != "${FALLBACK_GO_TOOLCHAIN}" ]; then`,
        '  echo "go: github.com/temporalio/cli@v1.5.1 requires go >= 1.25.0 (running go 1.22.2; GOTOOLCHAIN=local)" >&2',
        '  exit 1',
        'fi',
        'echo "go: downloading github.com/temporalio/cli v1.5.1" >&2',
        'sleep 1',
        'mkdir -p "$GOBIN" && printf "#!/bin/sh\\necho fake temporal\\n" > "$GOBIN/temporal" && chmod +x "$GOBIN/temporal"',
      ].join('\n') + '\n',
    );
    const cacheDir = path.join(scratch, 'build-cache');
    const env = { OPENEO_TEMPORAL_CACHE_DIR: cacheDir, PATH: `${fakeGoDir}:/usr/bin:/bin` };
    const lines: string[] = [];
    const results = await Promise.all([
      ensureTemporalCli({ env, log: (line) => lines.push(line) }),
      ensureTemporalCli({ env, log: (line) => lines.push(line) }),
    ]);

    const expected = path.join(cacheDir, 'bin', 'temporal');
    assert.deepEqual(results, [expected, expected]);
    const installs = (await readFile(invocations, 'utf8')).split('\n').filter((line) => line.startsWith('install'));
    assert.deepEqual(installs, [
      `install ${TEMPORAL_CLI_GO_PACKAGE}@${TEMPORAL_CLI_VERSION} GOTOOLCHAIN=`,
      `install ${TEMPORAL_CLI_GO_PACKAGE}@${TEMPORAL_CLI_VERSION} GOTOOLCHAIN=${FALLBACK_GO_TOOLCHAIN}`,
    ]);
    assert.ok(lines.includes('building the Temporal CLI from Go modules, this takes a few minutes, once'));
    assert.ok(
      lines.some((line) => line.includes('go: downloading')),
      'build output is streamed to log',
    );
    assert.ok(
      lines.some((line) => line.startsWith('another process')),
      'the second caller waited for the lock',
    );
  });
});

describe('withFileLock', () => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('runs one holder at a time, tells a waiter once, and frees the lock when the task fails', async () => {
    const lockPath = path.join(scratch, 'serial.lock');
    const events: string[] = [];
    let waits = 0;
    const task = (name: string) => async () => {
      events.push(`${name} in`);
      await sleep(300);
      events.push(`${name} out`);
      if (name === 'a') throw new Error('task a failed');
      return name;
    };
    const [a, b] = await Promise.allSettled([
      withFileLock(lockPath, task('a'), { pollMs: 50 }),
      withFileLock(lockPath, task('b'), { pollMs: 50, onWait: () => waits++ }),
    ]);
    assert.equal(a.status, 'rejected');
    assert.deepEqual(b, { status: 'fulfilled', value: 'b' });
    assert.deepEqual(events, ['a in', 'a out', 'b in', 'b out']);
    assert.equal(waits, 1);
    await assert.rejects(stat(lockPath), { code: 'ENOENT' });
  });

  it("takes over a lock its dead holder stopped refreshing, and an older version's lock file", async () => {
    const minuteAgo = new Date(Date.now() - 60_000);
    const leftByCrash = path.join(scratch, 'crashed.lock');
    await mkdir(leftByCrash);
    await utimes(leftByCrash, minuteAgo, minuteAgo);
    const legacyFile = path.join(scratch, 'legacy.lock');
    await writeFile(legacyFile, '12345');
    await utimes(legacyFile, minuteAgo, minuteAgo);
    for (const lockPath of [leftByCrash, legacyFile]) {
      let waited = false;
      const started = Date.now();
      assert.equal(
        await withFileLock(lockPath, async () => 'ran', { onWait: () => (waited = true), timeoutMs: 5_000 }),
        'ran',
      );
      assert.equal(waited, false, `${lockPath} was taken over at once`);
      assert.ok(Date.now() - started < 2_000);
    }
  });

  it('gives up on a live holder after timeoutMs, naming the lock', async () => {
    const lockPath = path.join(scratch, 'held.lock');
    await mkdir(lockPath); // fresh: a holder that refreshes it
    const started = Date.now();
    await assert.rejects(
      withFileLock(lockPath, async () => 'never', { timeoutMs: 400, pollMs: 50 }),
      (error: Error) => error.message.includes('Timed out waiting for the lock') && error.message.includes(lockPath),
    );
    assert.ok(Date.now() - started >= 400);
  });
});
