/**
 * The example notebooks are kept without outputs: a diff shows only what the notebook says and
 * does, and no result of someone's run (paths, job ids, figures) lands in the repository.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const NOTEBOOKS_DIR = join(__dirname, '..', '..', '..', 'examples', 'notebooks');

interface Notebook {
  nbformat: number;
  cells: Array<{ cell_type: string; outputs?: unknown[]; execution_count?: number | null }>;
}

describe('the example notebooks in the repository', () => {
  it('are nbformat 4 with every output stripped', async () => {
    const names = (await readdir(NOTEBOOKS_DIR)).filter((name) => name.endsWith('.ipynb'));
    assert.ok(names.length >= 1, `notebooks in ${NOTEBOOKS_DIR}`);
    for (const name of names) {
      const notebook = JSON.parse(await readFile(join(NOTEBOOKS_DIR, name), 'utf8')) as Notebook;
      assert.equal(notebook.nbformat, 4, name);
      notebook.cells.forEach((cell, i) => {
        if (cell.cell_type !== 'code') return;
        assert.deepEqual(cell.outputs, [], `${name}: cell ${i + 1} has outputs`);
        assert.equal(cell.execution_count, null, `${name}: cell ${i + 1} has an execution count`);
      });
    }
  });
});
