/**
 * The hook contract: the committed JSON Schemas are what the zod types generate now, and the
 * workflow's pure checks of what another language answers agree with the published schema on
 * good and bad answers alike.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Ajv2020 from 'ajv/dist/2020';
import { tileProcessGraph } from '../../src/core/batch-spec/arguments';
import { HOOK_SCHEMA_FILES, hookContractJsonSchema, hookContractJsonSchemaText } from '../../src/core/hooks/contract';
import { normalizeJobPlan } from '../../src/core/hooks/job-factory';
import { checkPostprocessAnswer, tileFileLocation } from '../../src/core/hooks/remote';

const ROOT = join(__dirname, '..', '..', '..');

function validatorOf(name: string) {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  ajv.addSchema(hookContractJsonSchema(), 'hooks');
  return ajv.getSchema(`hooks#/$defs/${name}`)!;
}

/** Whether a pure check accepts a value (it throws to refuse). */
function accepts(check: () => unknown): boolean {
  try {
    check();
    return true;
  } catch {
    return false;
  }
}

const graph = { load1: { process_id: 'load_collection', arguments: { id: 'SENTINEL2_L2A' }, result: true } };

const factoryAnswers: Record<string, unknown> = {
  'a graph': { processGraph: graph },
  'a graph with a title and job options': { processGraph: graph, title: 'S2', jobOptions: { 'driver-memory': '2g' } },
  'a process with arguments': {
    process: { processId: 'bap', namespace: 'https://example.org/bap.json' },
    arguments: {},
  },
  'a skip': { skip: 'no scenes' },
  'an empty skip': { skip: '' },
  'a skip that is not text': { skip: true },
  'a list': [graph],
  'a graph node without process_id': { processGraph: { load1: { arguments: {} } } },
  'a graph node without arguments': { processGraph: { load1: { process_id: 'load_collection' } } },
  'a process without an id': { process: { namespace: 'x' } },
  'job options that are a list': { processGraph: graph, jobOptions: [] },
  'a title that is a number': { processGraph: graph, title: 3 },
  nothing: null,
};

const postprocessAnswers: Record<string, unknown> = {
  'files and a result': { written: ['ndvi.tif', 'stats.json'], result: { mean: 0.4 } },
  'no files': { written: [] },
  'a folder in a name': { written: ['../escape.tif'] },
  'a hidden file': { written: ['.hidden'] },
  'names that are not text': { written: [1] },
  'no list': { written: 'stats.json' },
  'a list': [],
};

describe('the hook contract', () => {
  it('is committed as generated, in the repository and in the Python package', () => {
    for (const file of HOOK_SCHEMA_FILES)
      assert.equal(
        readFileSync(join(ROOT, file), 'utf8'),
        hookContractJsonSchemaText(),
        `${file} is stale: run npm run schema`,
      );
  });

  it('and the workflow agree on every job factory answer', () => {
    const schema = validatorOf('JobFactoryAnswer');
    for (const [name, answer] of Object.entries(factoryAnswers)) {
      const pure = accepts(() => normalizeJobPlan(answer, { processGraphFor: tileProcessGraph }));
      assert.equal(pure, schema(answer), `${name}: the workflow ${pure ? 'accepts' : 'refuses'} it`);
    }
  });

  it('and the workflow agree on every post-processor answer', () => {
    const schema = validatorOf('PostprocessAnswer');
    for (const [name, answer] of Object.entries(postprocessAnswers)) {
      const pure = accepts(() => checkPostprocessAnswer(answer));
      assert.equal(pure, schema(answer), `${name}: the workflow ${pure ? 'accepts' : 'refuses'} it`);
    }
  });

  it('refuses a result too large for a record, counted in UTF-8 bytes', () => {
    const fits = 'é'.repeat(8_000); // 16,000 bytes, with quotes 16,002
    assert.deepEqual(checkPostprocessAnswer({ written: [], result: fits }).result, fits);
    assert.throws(() => checkPostprocessAnswer({ written: [], result: 'é'.repeat(8_200) }), /16400 bytes|16402 bytes/);
  });

  it('names the files of a tile folder on a disk and in a bucket alike', () => {
    assert.equal(tileFileLocation('/data/out/b/t1', 'a.tif'), '/data/out/b/t1/a.tif');
    assert.equal(tileFileLocation('s3://bucket/out/b/t1/', 'a.tif'), 's3://bucket/out/b/t1/a.tif');
  });
});
