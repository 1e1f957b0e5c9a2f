/**
 * `load_collection`'s `temporal_extent` as back-ends check it before a job runs: `null`, or two
 * instants (an RFC 3339 date or date-time, or `null` for an open end, never both), the second
 * later than the first. A malformed value is `ProcessParameterInvalid`; an interval that
 * ends before it starts is `TemporalExtentEmpty`, the exception openEO's processes name for it.
 */
import type { GraphProblem } from './graph-problem';
import { isDeferredValue } from './parameter-schema';

const INSTANT = /^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2}))?$/;

/** Milliseconds of an instant, null for an open end, undefined when it is no instant. */
function instant(value: unknown): number | null | undefined {
  if (value === null) return null;
  if (typeof value !== 'string' || !INSTANT.test(value)) return undefined;
  // Date.parse rolls 2024-02-30 over into March: check the day is on the calendar first.
  const [year, month, day] = value.slice(0, 10).split('-').map(Number);
  if (new Date(Date.UTC(year, month - 1, day)).getUTCDate() !== day) return undefined;
  const time = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
  return Number.isNaN(time) ? undefined : time;
}

function invalid(nodeId: string, value: unknown, why: string): GraphProblem {
  return {
    code: 'ProcessParameterInvalid',
    nodeId,
    message: `The value passed for parameter 'temporal_extent' in process 'load_collection' is invalid: ${JSON.stringify(value)} ${why} (node '${nodeId}'); give two dates or date-times, e.g. ["2024-01-01", "2024-02-01"].`,
  };
}

/** The problems of one `temporal_extent` argument (none when it is deferred to run time). */
export function temporalExtentProblems(nodeId: string, value: unknown): GraphProblem[] {
  if (value === undefined || value === null || isDeferredValue(value)) return [];
  if (!Array.isArray(value) || value.length !== 2)
    return [invalid(nodeId, value, 'is not an interval of two instants')];
  if (value.some(isDeferredValue)) return [];
  const [start, end] = value.map(instant);
  if (start === undefined || end === undefined)
    return [invalid(nodeId, value, 'holds something that is not a date or date-time')];
  if (start === null && end === null) return [invalid(nodeId, value, 'is open at both ends')];
  if (start !== null && end !== null && end <= start) {
    return [
      {
        code: 'TemporalExtentEmpty',
        nodeId,
        message: `The temporal extent ${JSON.stringify(value)} is empty: its end must be later than its start (load_collection in node '${nodeId}').`,
      },
    ];
  }
  return [];
}
