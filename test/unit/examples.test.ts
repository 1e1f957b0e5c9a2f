/**
 * The example specs in `examples/` are what newcomers copy first: each must pass every offline
 * check of the front door (schema, tiles, periods, output template) as it stands.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inspectSpecOffline } from '../../src/core/batch-spec/prepare';

const EXAMPLES = join(__dirname, '..', '..', '..', 'examples');

describe('example specs', () => {
  const files = readdirSync(EXAMPLES).filter((name) => name.endsWith('.json'));

  it('are there', () => {
    assert.ok(files.length >= 4, `example specs found: ${files.join(', ')}`);
  });

  for (const file of files) {
    it(`${file} passes the offline checks`, () => {
      const { spec, tiles, problems } = inspectSpecOffline(JSON.parse(readFileSync(join(EXAMPLES, file), 'utf8')));
      assert.deepEqual(problems, [], `${file}: ${JSON.stringify(problems)}`);
      assert.ok(spec && tiles && tiles.count > 0, `${file} has tiles`);
    });
  }

  it('shared-results.json puts each quarter of a place in its own folder of the bucket', () => {
    const { spec, tiles } = inspectSpecOffline(JSON.parse(readFileSync(join(EXAMPLES, 'shared-results.json'), 'utf8')));
    assert.equal(spec?.outputDir, 's3://eo-results/composites');
    assert.equal(tiles?.count, 9 * 4, '9 places × 4 quarters');
    assert.match(tiles!.tileAt(1).id, /_2024-Q2$/);
  });
});
