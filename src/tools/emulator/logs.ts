/**
 * Per-job log entries and the `GET /jobs/{job_id}/logs` query semantics
 * (`offset` = last id seen, minimum `level`, optional `limit` with a `next` link).
 */
import { ApiError } from './errors';

/** openEO log levels from lowest to highest severity. */
export const LOG_LEVELS = ['debug', 'info', 'warning', 'error'] as const;

/** A log severity. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** One log entry as served by the API. */
export interface LogEntry {
  /** Increasing integer, as a string; never reused, not even across restarts of the job. */
  id: string;
  level: LogLevel;
  message: string;
  time: string;
  code?: string;
  data?: unknown;
  links: Array<{ href: string; rel: string }>;
}

/** Parsed query of a logs request. */
export interface LogQuery {
  /** Only entries with an id greater than this are returned. */
  afterId: number;
  minLevel: LogLevel;
  limit: number | undefined;
}

function severity(level: LogLevel): number {
  return LOG_LEVELS.indexOf(level);
}

/** Narrows arbitrary input to a log level. */
export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

/** A log as stored in the state file. */
export interface LogSnapshot {
  lastId: number;
  entries: LogEntry[];
}

/** The log of one batch job. */
export class JobLog {
  private entries: LogEntry[] = [];
  private lastId = 0;

  /**
   * @param storeLevel the job's `log_level`: entries below it are not kept,
   *   as a real back-end would not record them either.
   */
  constructor(
    private storeLevel: LogLevel,
    private readonly now: () => number = Date.now,
  ) {}

  /** The job's `log_level`: the lowest level that can appear in this log. */
  get level(): LogLevel {
    return this.storeLevel;
  }

  /** Changes the level for future entries (a PATCH of `log_level`). */
  set level(level: LogLevel) {
    this.storeLevel = level;
  }

  /** A copy of the whole log, for the state file. */
  snapshot(): LogSnapshot {
    return { lastId: this.lastId, entries: structuredClone(this.entries) };
  }

  /** Replaces the content with a snapshot (ids keep counting from its `lastId`). */
  restore(snapshot: LogSnapshot): void {
    this.entries = structuredClone(snapshot.entries);
    this.lastId = snapshot.lastId;
  }

  /** Appends an entry unless it is below the job's log level. */
  append(level: LogLevel, message: string, extra: { code?: string; data?: unknown } = {}): LogEntry | undefined {
    if (severity(level) < severity(this.storeLevel)) return undefined;
    this.lastId += 1;
    const entry: LogEntry = {
      id: String(this.lastId),
      level,
      message,
      time: new Date(this.now()).toISOString(),
      ...extra,
      links: [],
    };
    this.entries.push(entry);
    return entry;
  }

  /** The most recent error entry, served as the body of a 424 results response. */
  lastError(): LogEntry | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if (this.entries[i].level === 'error') return this.entries[i];
    }
    return undefined;
  }

  /** Entries matching the query, plus whether more matching entries exist beyond `limit`. */
  query(query: LogQuery): { entries: LogEntry[]; hasMore: boolean } {
    const matching = this.entries.filter(
      (entry) => Number(entry.id) > query.afterId && severity(entry.level) >= severity(query.minLevel),
    );
    if (query.limit === undefined || matching.length <= query.limit) return { entries: matching, hasMore: false };
    return { entries: matching.slice(0, query.limit), hasMore: true };
  }
}

/** Reads `offset`, `level` and `limit` from a logs request URL. */
export function parseLogQuery(url: URL): LogQuery {
  const offset = url.searchParams.get('offset') ?? '';
  const level = url.searchParams.get('level') ?? '';
  const limit = url.searchParams.get('limit') ?? '';
  if (offset !== '' && !/^\d+$/.test(offset)) {
    throw new ApiError('ParameterInvalid', `Log offset '${offset}' is not an id issued by this back-end.`);
  }
  if (level !== '' && !isLogLevel(level)) {
    throw new ApiError('ParameterInvalid', `Log level must be one of ${LOG_LEVELS.join(', ')}.`);
  }
  return {
    afterId: offset === '' ? 0 : Number(offset),
    minLevel: isLogLevel(level) ? level : 'debug',
    limit: parseLimit(limit),
  };
}

/** Parses a pagination `limit` (empty = no pagination). */
export function parseLimit(raw: string): number | undefined {
  if (raw === '') return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) {
    throw new ApiError('ParameterInvalid', `Parameter limit must be a positive integer, got '${raw}'.`);
  }
  return Number(raw);
}

/** Builds the logs response document for a job. */
export function logsDocument(log: JobLog, query: LogQuery, selfUrl: string): Record<string, unknown> {
  const { entries, hasMore } = log.query(query);
  const links: Array<Record<string, string>> = [];
  if (hasMore && entries.length > 0) {
    const next = new URL(selfUrl);
    next.search = '';
    next.searchParams.set('offset', entries[entries.length - 1].id);
    next.searchParams.set('level', query.minLevel);
    next.searchParams.set('limit', String(query.limit));
    links.push({ rel: 'next', href: next.toString(), type: 'application/json' });
  }
  // The effective level is the stricter of the job's log_level and the requested level.
  const effective = severity(log.level) > severity(query.minLevel) ? log.level : query.minLevel;
  return { level: effective, logs: entries, links };
}
