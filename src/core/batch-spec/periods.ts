/**
 * Time periods of a batch: every tile runs once per period. A period spec is either a calendar
 * step (`every` month, quarter or year between `start` and `end`) or an explicit list of ranges.
 * Everything here is pure date arithmetic in UTC (no clock, no time zone), so workflows may
 * expand periods too, e.g. to know how many tiles a page of an inline collection holds.
 */
import { SpecError } from './errors';

/** One time range: `end` is exclusive, as in openEO's `temporal_extent`. */
export interface Period {
  /** Safe in a workflow id: `2024-03`, `2024-Q1`, `2024`, `p1`, or the id a range was given. */
  id: string;
  /** ISO date (`2024-03-01`) or RFC 3339 date-time, as given or derived. */
  start: string;
  end: string;
}

export type PeriodStep = 'month' | 'quarter' | 'year';

/** A range of a `ranges` list: a pair, or an object with an optional id. */
export type PeriodRange = [string, string] | { id?: string; start: string; end: string };

export type PeriodsSpec = { every: PeriodStep; start: string; end: string } | { ranges: PeriodRange[] };

/** Period ids: no `_`, so the last `_` of a tile id always separates its period. */
export const PERIOD_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9.-]*$/;
export const MAX_PERIOD_ID_LENGTH = 40;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const MONTHS_PER_STEP: Record<PeriodStep, number> = { month: 1, quarter: 3, year: 12 };

function periodError(field: string, problem: string, fix: string, code = 'invalid_periods'): SpecError {
  return new SpecError({ field, problem, fix, code });
}

/** True when year, month and day name a day of the calendar (no 2023-02-29). */
function realDay(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** Milliseconds since the epoch of an ISO date or date-time, after checking it is a real one. */
function instantOf(value: unknown, field: string, dateOnly: boolean): number {
  const text = typeof value === 'string' ? value : '';
  const match = DATE.exec(text) ?? (dateOnly ? null : DATE_TIME.exec(text));
  const fix = dateOnly
    ? 'give a date as YYYY-MM-DD, such as 2024-01-01'
    : 'give a date (2024-01-01) or an RFC 3339 date-time (2024-01-01T00:00:00Z)';
  if (!match)
    throw periodError(
      field,
      `${JSON.stringify(value) ?? String(value)} is not ${dateOnly ? 'an ISO date' : 'an ISO date or date-time'}`,
      fix,
      'invalid_date',
    );
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const [hour, minute, second] = [Number(match[4] ?? 0), Number(match[5] ?? 0), Number(match[6] ?? 0)];
  if (!realDay(year, month, day) || hour > 23 || minute > 59 || second > 59) {
    throw periodError(field, `${text} is not a day of the calendar`, fix, 'invalid_date');
  }
  return Date.parse(match[4] === undefined ? `${text}T00:00:00Z` : text);
}

function requireOrder(start: number, end: number, field: string, given: string): void {
  if (end <= start) {
    throw periodError(
      field,
      `end must be after start (end is exclusive), got ${given}`,
      'give an end later than the start, e.g. start 2024-01-01 and end 2025-01-01 for the year 2024',
      'empty_period',
    );
  }
}

/** `YYYY-MM-DD` of a UTC instant. */
function isoDay(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

function stepId(step: PeriodStep, year: number, month0: number): string {
  if (step === 'year') return String(year);
  if (step === 'quarter') return `${year}-Q${Math.floor(month0 / 3) + 1}`;
  return `${year}-${String(month0 + 1).padStart(2, '0')}`;
}

/** Calendar months, quarters or years from start to end, the first and last clipped to them. */
function calendarPeriods(step: PeriodStep, startText: string, endText: string): Period[] {
  const start = instantOf(startText, 'periods.start', true);
  const end = instantOf(endText, 'periods.end', true);
  requireOrder(start, end, 'periods.end', `start ${startText}, end ${endText}`);
  const months = MONTHS_PER_STEP[step];
  const first = new Date(start);
  // The step that holds `start`: its first month, aligned to the calendar (Jan, Apr, Jul, Oct for quarters).
  let year = first.getUTCFullYear();
  let month0 = Math.floor(first.getUTCMonth() / months) * months;
  const periods: Period[] = [];
  for (let from = start; from < end;) {
    const boundary = Date.UTC(year, month0 + months, 1);
    const to = Math.min(boundary, end);
    periods.push({ id: stepId(step, year, month0), start: isoDay(from), end: isoDay(to) });
    from = to;
    month0 += months;
    year += Math.floor(month0 / 12);
    month0 %= 12;
  }
  return periods;
}

function readRangeId(raw: unknown, field: string): string {
  if (typeof raw !== 'string' || !PERIOD_ID_PATTERN.test(raw) || raw.length > MAX_PERIOD_ID_LENGTH) {
    throw periodError(
      field,
      `period id ${JSON.stringify(raw)} is not usable in a tile id`,
      `use up to ${MAX_PERIOD_ID_LENGTH} letters, digits, '-' or '.' (no '_': it separates the tile from the period)`,
      'invalid_period_id',
    );
  }
  return raw;
}

/** One listed range, checked; ids default to `p1`, `p2`, … by position. */
function listedPeriod(range: unknown, index: number): Period {
  const field = `periods.ranges[${index}]`;
  const pair = Array.isArray(range) ? range : undefined;
  const object = !pair && typeof range === 'object' && range !== null ? (range as Record<string, unknown>) : undefined;
  if ((!pair || pair.length !== 2) && !object) {
    throw periodError(
      field,
      'expected [start, end] or { id, start, end }',
      'give the range as ["2024-01-01", "2024-04-01"] or {"id": "winter", "start": …, "end": …}',
    );
  }
  const [startText, endText] = pair ? pair : [object?.start, object?.end];
  const start = instantOf(startText, `${field}${pair ? '[0]' : '.start'}`, false);
  const end = instantOf(endText, `${field}${pair ? '[1]' : '.end'}`, false);
  requireOrder(start, end, field, `start ${String(startText)}, end ${String(endText)}`);
  const id = object?.id === undefined ? `p${index + 1}` : readRangeId(object.id, `${field}.id`);
  return { id, start: startText as string, end: endText as string };
}

function listedPeriods(ranges: unknown): Period[] {
  if (!Array.isArray(ranges) || ranges.length === 0) {
    throw periodError(
      'periods.ranges',
      'has no range, so the batch would have no tiles',
      'list at least one range, such as ["2024-01-01", "2024-04-01"]',
      'empty_period',
    );
  }
  const periods = ranges.map(listedPeriod);
  const seen = new Map<string, number>();
  periods.forEach((period, index) => {
    const previous = seen.get(period.id);
    if (previous !== undefined) {
      throw periodError(
        `periods.ranges[${index}].id`,
        `period id "${period.id}" is also the id of periods.ranges[${previous}]`,
        'give every range its own id',
        'duplicate_period_id',
      );
    }
    seen.set(period.id, index);
  });
  return periods;
}

/** Every period of a spec, in time order for calendar steps, in list order for ranges. Throws {@link SpecError}. */
export function expandPeriods(spec: PeriodsSpec): Period[] {
  const value: unknown = spec;
  if (typeof value !== 'object' || value === null) {
    throw periodError(
      'periods',
      'expected { every, start, end } or { ranges }',
      'give e.g. {"every": "month", "start": "2024-01-01", "end": "2025-01-01"}',
    );
  }
  if ('ranges' in spec) return listedPeriods(spec.ranges);
  if (!(spec.every in MONTHS_PER_STEP)) {
    throw periodError(
      'periods.every',
      `${JSON.stringify(spec.every)} is not a step`,
      'use "month", "quarter" or "year"',
    );
  }
  return calendarPeriods(spec.every, spec.start, spec.end);
}

/** The periods of a spec, or the problem with them, for checks that list every problem. */
export function periodsOrProblem(spec: PeriodsSpec | undefined): { periods?: Period[]; problem?: SpecError } {
  if (spec === undefined) return {};
  try {
    return { periods: expandPeriods(spec) };
  } catch (err) {
    if (err instanceof SpecError) return { problem: err };
    throw err;
  }
}
