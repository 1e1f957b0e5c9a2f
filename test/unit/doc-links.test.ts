/**
 * The documentation holds together: every relative link in the README, the changelog, docs/ and
 * the emulator's README points at a file that exists, and every #anchor at a heading of its target
 * (as GitHub names headings). The README stays short enough to read in ten minutes, and no line is
 * a wall of text. Absolute http(s) links are not followed: the test needs no network.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

/** The repository's root: this file runs from dist/test/unit. */
const ROOT = resolve(__dirname, '..', '..', '..');
const README_MAX_LINES = 350;
const LINE_MAX_CHARS = 400;

function markdownUnder(folder: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) found.push(...markdownUnder(path));
    else if (entry.name.endsWith('.md')) found.push(path);
  }
  return found;
}

/** The pages this test reads, as absolute paths; README, changelog and docs/ must all be there. */
function documentationPages(): string[] {
  const pages = ['README.md', 'CHANGELOG.md', 'src/tools/emulator/README.md'].map((p) => join(ROOT, p));
  for (const page of pages) assert.ok(existsSync(page), `${relative(ROOT, page)} exists`);
  return [...pages, ...markdownUnder(join(ROOT, 'docs'))];
}

interface ProseLine {
  /** The line as written. */
  raw: string;
  /** The line with its code spans blanked, so a link shown as code is not taken for a link. */
  text: string;
  number: number;
}

/** The lines of a page that are prose: fenced and indented code blocks left out. */
function proseLines(page: string): ProseLine[] {
  const prose: ProseLine[] = [];
  let fence: string | undefined;
  let previousBlankOrCode = true;
  page.split('\n').forEach((raw, index) => {
    const fenceMark = /^ {0,3}(`{3,}|~{3,})/.exec(raw)?.[1];
    if (fence !== undefined) {
      if (fenceMark !== undefined && fenceMark[0] === fence[0] && fenceMark.length >= fence.length) fence = undefined;
      return;
    }
    if (fenceMark !== undefined) {
      fence = fenceMark;
      return;
    }
    // An indented code block cannot interrupt a paragraph: only after a blank line (or more code).
    const indentedCode = /^( {4,}|\t)/.test(raw) && previousBlankOrCode;
    previousBlankOrCode = indentedCode || raw.trim() === '';
    if (!indentedCode) prose.push({ raw, text: raw.replace(/(`+)(?:(?!\1)[\s\S])*?\1/g, ''), number: index + 1 });
  });
  return prose;
}

/**
 * A heading's anchor as GitHub makes it: the rendered text lower-cased, everything but letters,
 * marks, digits, spaces, hyphens and underscores dropped, spaces turned into hyphens.
 */
function githubSlug(heading: string): string {
  const rendered = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link or image reads as its text
    .replace(/<[^>]+>/g, '') // inline HTML
    .replace(/[*`]/g, ''); // emphasis and code marks
  return rendered
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a page's headings give, duplicates numbered -1, -2, … in order, as GitHub does. */
function headingAnchors(page: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { raw } of proseLines(page)) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(raw)?.[1];
    if (heading === undefined) continue;
    const slug = githubSlug(heading);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

interface Link {
  target: string;
  line: number;
}

/** Inline links and images (their text may wrap over lines), and reference definitions, of a page's prose. */
function linksIn(page: string): Link[] {
  const lineCount = page.split('\n').length;
  const masked = Array<string>(lineCount).fill('');
  const links: Link[] = [];
  for (const { text, number } of proseLines(page)) {
    masked[number - 1] = text;
    const definition = /^ {0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/.exec(text);
    if (definition) links.push({ target: definition[1], line: number });
  }
  const prose = masked.join('\n');
  for (const match of prose.matchAll(/!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) {
    links.push({ target: match[1], line: prose.slice(0, match.index).split('\n').length });
  }
  return links.sort((x, y) => x.line - y.line);
}

/** What is wrong with one link of `page`, or undefined when it resolves. */
function problemOf(page: string, link: Link, anchorCache: Map<string, Set<string>>): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(link.target)) return undefined; // http(s), mailto: not followed
  const [rawPath, rawAnchor] = link.target.split('#', 2) as [string, string | undefined];
  const file = rawPath === '' ? page : resolve(dirname(page), decodeURIComponent(rawPath));
  const where = `${relative(ROOT, page)}:${link.line}: ${link.target}`;
  if (!existsSync(file)) return `${where}: no such file`;
  if (rawAnchor === undefined || rawAnchor === '') return undefined;
  if (statSync(file).isDirectory() || !file.endsWith('.md')) return undefined; // e.g. #L10 in code
  let anchors = anchorCache.get(file);
  if (!anchors) anchorCache.set(file, (anchors = headingAnchors(readFileSync(file, 'utf8'))));
  const anchor = decodeURIComponent(rawAnchor);
  return anchors.has(anchor) ? undefined : `${where}: no heading "#${anchor}" in ${relative(ROOT, file)}`;
}

describe('documentation links', () => {
  it('names anchors as GitHub does', () => {
    assert.equal(githubSlug('Where results go: the output path template'), 'where-results-go-the-output-path-template');
    assert.equal(githubSlug('Following a batch: `start --wait`'), 'following-a-batch-start---wait');
    assert.equal(githubSlug("What a tile's folder holds"), 'what-a-tiles-folder-holds');
    assert.equal(githubSlug('The 100,000-tile batch'), 'the-100000-tile-batch');
    assert.equal(githubSlug('[STAC](https://stacspec.org): a catalogue'), 'stac-a-catalogue');
    const repeated = '# A\n## Notes\ntext\n## Notes\n### Notes\n';
    assert.deepEqual([...headingAnchors(repeated)], ['a', 'notes', 'notes-1', 'notes-2']);
    assert.deepEqual([...headingAnchors('```sh\n# not a heading\n```\n\n    # nor this\n')], []);
  });

  it('finds inline links, images and reference definitions, not those in code', () => {
    const page = [
      '[a](x.md#b) and ![img](p.png "t")',
      '`[no](code.md)` [wrapped',
      'text](w.md)',
      '',
      '    [no](indented.md)',
      '[ref]: y.md',
    ].join('\n');
    assert.deepEqual(
      linksIn(page).map((l) => `${l.line}:${l.target}`),
      ['1:x.md#b', '1:p.png', '2:w.md', '6:y.md'],
    );
  });

  it('resolves every relative link and #anchor to a file and a heading', () => {
    const anchorCache = new Map<string, Set<string>>();
    const problems: string[] = [];
    let checked = 0;
    for (const page of documentationPages()) {
      for (const link of linksIn(readFileSync(page, 'utf8'))) {
        checked++;
        const problem = problemOf(page, link, anchorCache);
        if (problem) problems.push(problem);
      }
    }
    assert.ok(checked > 100, `the pages hold their links (${checked} found)`);
    assert.deepEqual(problems, []);
  });

  it(`keeps the README to ${README_MAX_LINES} lines`, () => {
    const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').replace(/\n$/, '').split('\n');
    assert.ok(lines.length <= README_MAX_LINES, `README.md has ${lines.length} lines; move detail into docs/`);
  });

  it(`has no line over ${LINE_MAX_CHARS} characters in the README, the changelog or docs/`, () => {
    const pages = [join(ROOT, 'README.md'), join(ROOT, 'CHANGELOG.md'), ...markdownUnder(join(ROOT, 'docs'))];
    const long = pages.flatMap((page) =>
      readFileSync(page, 'utf8')
        .split('\n')
        .map((line, i) => ({ at: `${relative(ROOT, page)}:${i + 1}`, chars: [...line].length }))
        .filter(({ chars }) => chars > LINE_MAX_CHARS)
        .map(({ at, chars }) => `${at} (${chars} characters)`),
    );
    assert.deepEqual(long, []);
  });
});
