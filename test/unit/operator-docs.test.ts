/**
 * The operator's setup in docs/operations.md is the one the cluster tier runs on: the dynamic
 * config the harness writes (each key with its value), the namespace's retention and the search
 * attributes the project defines, each with a command. A setting changed in one place fails here
 * until the other says the same.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SEARCH_ATTRIBUTES } from '../../src/core/search-attributes';
import { CLUSTER_DYNAMIC_CONFIG, CLUSTER_RETENTION_HOURS } from '../harness/temporal-service';

const operations = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'operations.md'), 'utf8');

describe('the operator setup documented is the one tested', () => {
  it('lists every dynamic config key the cluster tier sets, with its value', () => {
    for (const { key, value } of CLUSTER_DYNAMIC_CONFIG) {
      const listed = new RegExp(`^    ${key.replace(/\./g, '\\.')}:\\n      - value: (.+)$`, 'm').exec(operations);
      assert.ok(listed, `docs/operations.md lists ${key}`);
      assert.equal(listed[1], JSON.stringify(value), `${key}: the value the harness writes`);
    }
  });

  it("creates the namespace with the tier's retention and every search attribute of the project", () => {
    assert.match(operations, new RegExp(`namespace create --namespace openeo --retention ${CLUSTER_RETENTION_HOURS}h`));
    for (const key of SEARCH_ATTRIBUTES)
      assert.match(
        operations,
        new RegExp(`search-attribute create --namespace openeo --name ${key.name} --type Keyword`),
        `a command for ${key.name}`,
      );
  });
});
