/**
 * `openeo-temporal plan --map` as a real process: after the plan, the planned tiles are on the
 * map page (the dashboard's page, fed with the plan), and Ctrl-C ends it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI } from '../support/cli';
import { eventually } from '../support/eventually';

/** The first server-sent event of a stream, parsed. */
async function firstEvent(
  url: string,
): Promise<{ event: string; data: { tiles: { tileId: string; status: string }[] } }> {
  const response = await fetch(url);
  const reader = response.body!.getReader();
  let text = '';
  try {
    while (!text.includes('\n\n')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString('utf8');
    }
  } finally {
    await reader.cancel();
  }
  const block = text.split('\n\n').find((b) => b.includes('data:')) ?? '';
  const field = (name: string) =>
    block
      .split('\n')
      .filter((l) => l.startsWith(`${name}:`))
      .map((l) => l.slice(name.length + 1).trim())
      .join('\n');
  return { event: field('event'), data: JSON.parse(field('data')) as { tiles: { tileId: string; status: string }[] } };
}

describe('plan --map', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'openeo-temporal-plan-map-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('shows the planned tiles on the map page until stopped', async () => {
    const specPath = join(dir, 'spec.json');
    await writeFile(
      specPath,
      JSON.stringify({
        batchId: 'planned',
        backends: [{ name: 'somewhere', url: 'http://127.0.0.1:9/openeo', parallelJobs: 2 }],
        process: { processId: 'bap_composite', namespace: 'https://example.invalid/bap_composite.json' },
        tiles: {
          aoi: { west: 590000, south: 5660000, east: 605000, north: 5670000, crs: 'EPSG:32631' },
          tileSize: 5000,
        },
        outputDir: join(dir, 'output'),
      }),
    );
    const child = spawn(process.execPath, [CLI, 'plan', specPath, '--offline', '--map', '--port', '0']);
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await eventually(async () => /on the map: http/.test(output), `the map's address is printed: ${output}`, 60_000);
      const url = /on the map: (http\S+)/.exec(output)![1]!;
      assert.match(output, /6 planned tiles/);
      assert.match(await (await fetch(url)).text(), /<html/i);
      const snapshot = await firstEvent(`${url}api/batches/plan/events`);
      assert.equal(snapshot.event, 'snapshot');
      assert.equal(snapshot.data.tiles.length, 6, 'a 3 × 2 grid of 5 km tiles');
      assert.ok(snapshot.data.tiles.every((t) => t.status === 'not_started'));
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0, 'Ctrl-C ends it');
  });
});
