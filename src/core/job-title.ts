/**
 * The title of a tile attempt's openEO job, which is also its key: `<batchId>/<tileId> attempt
 * <n>`, after a job factory's own title when it gave one. The tile workflow builds it; activities
 * read it back (a create whose answer was lost finds its job by it, the batch's end finds the
 * batch's never-started twins by it). Pure, so workflow code may import it.
 */

/** Between a job factory's title and the key. */
const FACTORY_TITLE_SEPARATOR = ' — ';

/** What a tile attempt's job title says. */
export interface JobTitleParts {
  batchId: string;
  tileId: string;
  attempt: number;
}

/**
 * The job's title for one attempt of a tile. A factory's title goes first; the key stays whole
 * (and last), so a lost create is still found by it.
 */
export function tileJobTitle(batchId: string, tileId: string, attempt: number, factoryTitle?: string): string {
  const key = `${batchId}/${tileId} attempt ${attempt}`;
  return factoryTitle ? `${factoryTitle}${FACTORY_TITLE_SEPARATOR}${key}` : key;
}

/**
 * The batch, tile and attempt a job's title names, or undefined for a title the batch did not
 * give (a user's own job). A batch id has no `/`, so the first one ends it.
 */
export function parseJobTitle(title: string): JobTitleParts | undefined {
  const separator = title.lastIndexOf(FACTORY_TITLE_SEPARATOR);
  const key = separator < 0 ? title : title.slice(separator + FACTORY_TITLE_SEPARATOR.length);
  const match = /^([^/]+)\/([\s\S]*) attempt (\d+)$/.exec(key);
  return match ? { batchId: match[1], tileId: match[2], attempt: Number(match[3]) } : undefined;
}

/** Whether the title is one the batch gave a tile attempt's job. */
export function isBatchJobTitle(title: string, batchId: string): boolean {
  return parseJobTitle(title)?.batchId === batchId;
}
