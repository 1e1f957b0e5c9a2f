/**
 * The batch's collection.json while tiles finish at the same time: in one worker (many tiles
 * at once) and in several worker processes writing into the same folder. However the writes
 * interleave, the final collection links every item and spans all of them.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { stacSettings } from '../../src/core/batch-spec/stac-settings';
import { SharedRefresh, writeItemAndCollection, type RestClock } from '../../activities/stac/catalog';
import type { StacCollection } from '../../activities/stac/collection';
import { stacItem, type StacItem } from '../../activities/stac/item';
import { COLLECTION_KEY, localStacStore, type StacStore } from '../../activities/stac/store';

const run = promisify(execFile);
const settings = stacSettings('race', undefined);

/** Tile `n` of a row of 0.1° squares, each finishing on its own day. */
function itemFor(n: number): StacItem {
  const west = n * 0.1;
  return stacItem({
    tile: {
      id: `tile-${n}`,
      geometry: {
        type: 'Polygon',
        coordinates: [
          [
            [west, 50],
            [west + 0.1, 50],
            [west + 0.1, 50.1],
            [west, 50.1],
            [west, 50],
          ],
        ],
      },
    },
    collectionId: 'race',
    job: { id: `job-${n}`, backend: 'emulator', backendUrl: 'http://127.0.0.1:1' },
    resultTime: new Date(Date.UTC(2024, 0, 1 + n)).toISOString(),
    assets: [],
  });
}

async function linkedItems(dir: string): Promise<string[]> {
  const collection = JSON.parse(await readFile(join(dir, 'collection.json'), 'utf8'));
  return collection.links.filter((l: { rel: string }) => l.rel === 'item').map((l: { href: string }) => l.href);
}

const expectedLinks = (count: number) => Array.from({ length: count }, (_, n) => `./items/tile-${n}.json`).sort();

describe('collection.json with tiles finishing at once', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stac-collection-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a writer that built its collection from an older listing and wrote it last rebuilds it', async () => {
    const batchDir = join(dir, 'stale-writer');
    const store = localStacStore(batchDir);
    // Tile 0's first collection write waits until tile 1 is completely done, so it lands last
    // with a collection made before tile 1's item existed: the race, made certain.
    let blocked!: () => void;
    const isBlocked = new Promise<void>((resolve) => (blocked = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let first = true;
    // Tile 0 finishes on another worker: its store shares no collection refreshes with this one's.
    const slow: StacStore = {
      ...store,
      place: undefined,
      async writeJson(key, doc) {
        if (key === COLLECTION_KEY && first) {
          first = false;
          blocked();
          await released;
        }
        return store.writeJson(key, doc);
      },
    };
    const slowTile = writeItemAndCollection(slow, 'race', settings, itemFor(0));
    await isBlocked;
    await writeItemAndCollection(store, 'race', settings, itemFor(1));
    assert.deepEqual((await linkedItems(batchDir)).sort(), expectedLinks(2));
    release();
    await slowTile;
    assert.deepEqual((await linkedItems(batchDir)).sort(), expectedLinks(2), 'the stale collection was replaced');
  });

  it('loses no item when 30 tiles of one worker finish together', async () => {
    const batchDir = join(dir, 'one-worker');
    const store = localStacStore(batchDir);
    await Promise.all(
      Array.from({ length: 30 }, (_, n) => writeItemAndCollection(store, 'race', settings, itemFor(n))),
    );
    assert.deepEqual((await linkedItems(batchDir)).sort(), expectedLinks(30));
    const collection = JSON.parse(await readFile(join(batchDir, 'collection.json'), 'utf8'));
    assert.deepEqual(
      collection.extent.spatial.bbox[0].map((v: number) => Number(v.toFixed(6))),
      [0, 50, 3, 50.1],
    );
    assert.deepEqual(collection.extent.temporal.interval, [['2024-01-01T00:00:00.000Z', '2024-01-30T00:00:00.000Z']]);
    // No temporary file is left behind.
    assert.deepEqual((await readdir(batchDir)).sort(), ['collection.json', 'items']);
  });

  it('tiles of one worker finishing together share collection refreshes instead of one each', async () => {
    const batchDir = join(dir, 'shared');
    const store = localStacStore(batchDir);
    let collectionWrites = 0;
    const counting: StacStore = {
      ...store,
      writeJson: (key, doc) => ((collectionWrites += key === COLLECTION_KEY ? 1 : 0), store.writeJson(key, doc)),
    };
    await Promise.all(
      Array.from({ length: 40 }, (_, n) => writeItemAndCollection(counting, 'race', settings, itemFor(n))),
    );
    assert.deepEqual((await linkedItems(batchDir)).sort(), expectedLinks(40));
    // The first tile's refresh, then one for all that finished meanwhile (a few more if items trickle in).
    assert.ok(collectionWrites <= 5, `${collectionWrites} collection writes for 40 tiles`);
  });

  it("rests three times a refresh's length before the next, so refreshes of a large collection do not run back to back", async () => {
    // A clock the test moves: each refresh "takes" the time it is given.
    let now = 0;
    const rests: number[] = [];
    const clock: RestClock = { now: () => now, sleep: async (ms) => void rests.push(ms) };
    const shared = new SharedRefresh(clock);
    const started: number[] = [];
    const refreshTaking = (ms: number) => async () => {
      started.push(now);
      await new Promise((resolve) => setImmediate(resolve));
      now += ms;
      return {} as StacCollection;
    };
    const first = shared.run(refreshTaking(200));
    // Two tiles finish while the first refresh runs: they share the next one, after its rest.
    let third: Promise<StacCollection> | undefined;
    const second = shared.run(async () => {
      const running = refreshTaking(20_000)();
      await Promise.resolve();
      // A tile finishing during a refresh of 20 s waits a rest capped at 30 s, not 60.
      third = shared.run(refreshTaking(1));
      return running;
    });
    assert.equal(shared.run(refreshTaking(1)), second);
    await Promise.all([first, second]);
    await third;
    assert.equal(started.length, 3);
    assert.deepEqual(rests, [600, 30_000]);
  });

  it('a finishing tile reads only the items the collection does not link yet, however many there are', async () => {
    const batchDir = join(dir, 'reads');
    const store = localStacStore(batchDir);
    for (let n = 0; n < 25; n++) await writeItemAndCollection(store, 'race', settings, itemFor(n));
    const reads: string[] = [];
    const counting: StacStore = { ...store, readJson: (key) => (reads.push(key), store.readJson(key)) };
    await writeItemAndCollection(counting, 'race', settings, itemFor(25));
    assert.deepEqual(
      reads.filter((key) => key.startsWith('items/')),
      ['items/tile-25.json'],
    );
    assert.deepEqual((await linkedItems(batchDir)).sort(), expectedLinks(26));
  });

  it('loses no item when three worker processes write into the same folder at once', async () => {
    const batchDir = join(dir, 'three-workers');
    // Each process writes its share of 36 items, all of them as fast as they can.
    const script = `
      const { writeItemAndCollection } = require(${JSON.stringify(join(__dirname, '..', '..', 'activities', 'stac', 'catalog.js'))});
      const { localStacStore } = require(${JSON.stringify(join(__dirname, '..', '..', 'activities', 'stac', 'store.js'))});
      const [dir, first, count, items] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3]), JSON.parse(process.argv[4])];
      const store = localStacStore(dir);
      const settings = { collectionId: 'race', license: 'other' };
      Promise.all(items.slice(first, first + count).map((item) => writeItemAndCollection(store, 'race', settings, item)))
        .catch((err) => { console.error(err); process.exit(1); });
    `;
    const items = JSON.stringify(Array.from({ length: 36 }, (_, n) => itemFor(n)));
    await Promise.all(
      [0, 12, 24].map((first) => run(process.execPath, ['-e', script, batchDir, String(first), '12', items])),
    );
    assert.deepEqual((await linkedItems(batchDir)).sort(), expectedLinks(36));
    assert.equal((await readdir(join(batchDir, 'items'))).length, 36);
  });
});
