/**
 * Reads a job's logs (`GET /jobs/{job_id}/logs`) a page at a time, as the openEO API describes:
 * ask with `limit`, then follow the page's `rel=next` link. Real backends differ: some ignore
 * `offset` and send the same entries forever, some send no links at all. So reading stops on
 * an empty page, on a page with nothing new (same log ids, or the same entries), on a next link
 * already followed, and after a capped number of pages and entries; whatever was read is kept,
 * also when a later page fails.
 */
import type { Connection } from '@openeo/js-client';
import { sameOrigin } from '../src/core/openeo/credentials';
import { describeFailure } from '../src/core/openeo/errors';

export interface LogEntry {
  id?: string;
  level?: string;
  code?: string;
  message?: string;
}

export interface LogPagingLimits {
  /** Entries asked for per page (`limit`). */
  pageSize: number;
  maxPages: number;
  maxEntries: number;
}

export const DEFAULT_LOG_LIMITS: LogPagingLimits = { pageSize: 500, maxPages: 20, maxEntries: 10_000 };

/** What was read, and why reading stopped: kept in `job.json` beside the logs. */
export interface JobLogs {
  entries: LogEntry[];
  pages: number;
  /** False when entries may be missing: a cap was reached, or a page failed. */
  complete: boolean;
  stoppedBecause: string;
}

interface LogsPage {
  logs?: unknown;
  links?: unknown;
}

/**
 * The js-client's plain GET (`_get`) is protected in its types; we need it to follow the
 * backend's own `next` links, through the same axios instance (timeouts, token) as every call.
 */
interface RawGet {
  _get(path: string, query?: Record<string, unknown>): Promise<{ data: unknown }>;
}

/** The page's `rel=next` link, absolute, or undefined. */
function nextLink(page: LogsPage, base: string): string | undefined {
  if (!Array.isArray(page.links)) return undefined;
  const next = (page.links as { rel?: unknown; href?: unknown }[]).find(
    (link) => link?.rel === 'next' && typeof link.href === 'string',
  );
  try {
    return next ? new URL(next.href as string, base).toString() : undefined;
  } catch {
    return undefined;
  }
}

/** An entry's identity: its log id, or (without one) its whole content. */
function entryKey(entry: LogEntry): string {
  return typeof entry.id === 'string' ? `id:${entry.id}` : `entry:${JSON.stringify(entry)}`;
}

export async function readJobLogs(
  connection: Connection,
  jobId: string,
  limits: LogPagingLimits = DEFAULT_LOG_LIMITS,
): Promise<JobLogs> {
  const raw = connection as unknown as RawGet;
  const base = connection.getBaseUrl();
  const path = `/jobs/${encodeURIComponent(jobId)}/logs`;
  const entries: LogEntry[] = [];
  const seen = new Set<string>();
  const requested = new Set<string>();
  const done = (complete: boolean, stoppedBecause: string, pages: number): JobLogs => ({
    entries,
    pages,
    complete,
    stoppedBecause,
  });
  // The first page, then either a next link (a full URL) or an offset into the same endpoint.
  let request: { url: string; query?: Record<string, unknown> } = { url: path, query: { limit: limits.pageSize } };
  // A backend that gave a next link once pages by links: a page without one is its last.
  let pagesByLinks = false;
  for (let pages = 0; ;) {
    if (pages >= limits.maxPages) return done(false, `read the maximum of ${limits.maxPages} pages`, pages);
    const key = `${request.url} ${JSON.stringify(request.query ?? {})}`;
    if (requested.has(key)) return done(true, 'the backend pointed to a page already read', pages);
    requested.add(key);
    let page: LogsPage;
    try {
      page = ((await raw._get(request.url, request.query ?? {})).data ?? {}) as LogsPage;
    } catch (err) {
      // Nothing read yet: the caller retries. Otherwise keep what we have.
      if (pages === 0) throw err;
      const failure = describeFailure(err);
      return done(false, `page ${pages + 1} failed: ${failure.code}: ${failure.message}`, pages);
    }
    pages += 1;
    const logs = (Array.isArray(page.logs) ? page.logs : []).filter(
      (e): e is LogEntry => typeof e === 'object' && e !== null,
    );
    if (logs.length === 0) return done(true, 'the last page was empty', pages);
    const fresh = logs.filter((entry) => !seen.has(entryKey(entry)));
    if (fresh.length === 0) return done(true, 'the backend sent a page already read', pages);
    for (const entry of fresh) {
      if (entries.length >= limits.maxEntries)
        return done(false, `read the maximum of ${limits.maxEntries} entries`, pages);
      seen.add(entryKey(entry));
      entries.push(entry);
    }
    const next = nextLink(page, new URL(`${base.replace(/\/$/, '')}${path}`).toString());
    if (next) {
      // The link is followed with our token: never to another origin.
      if (!sameOrigin(next, base)) return done(false, 'the next page is on another origin', pages);
      request = { url: next };
      pagesByLinks = true;
      continue;
    }
    if (pagesByLinks) return done(true, 'the last page had no next link', pages);
    // No link: a short page is the last one; a full one may be followed by more, by offset.
    if (logs.length < limits.pageSize) return done(true, 'the last page was not full', pages);
    const lastId = logs[logs.length - 1].id;
    if (typeof lastId !== 'string') return done(false, 'a full page without a next link or log ids', pages);
    request = { url: path, query: { limit: limits.pageSize, offset: lastId } };
  }
}
