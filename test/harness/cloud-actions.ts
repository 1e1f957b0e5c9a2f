/**
 * Temporal Cloud Actions, counted two ways (the bench's `actions` scenario, bench/actions.ts, and
 * tests that check what a change costs):
 *
 * - from a history, by the Cloud's published mapping of history events to Actions
 *   (docs.temporal.io/cloud/actions): what the Cloud UI annotates; it cannot see heartbeats or
 *   queries;
 * - from the server's own `action` counter (Prometheus, `start-dev --metrics-port`), which the
 *   frontend bumps per billable request and command: the one count of heartbeats that reached it.
 *
 * Both by kind, so they cross-check each other kind by kind.
 */
import { temporal as proto } from '@temporalio/proto';

type HistoryEvent = proto.api.history.v1.IHistoryEvent;

/** The kinds of billable Actions a batch makes. */
export const ACTION_KINDS = [
  'workflow start',
  'child workflow start',
  'continue-as-new',
  'activity',
  'activity retry',
  'heartbeat',
  'timer',
  'signal',
  'search attribute upsert',
  'memo update',
  'markers',
  'update',
  'query',
  'change-version upsert',
] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

/**
 * A patch's upsert of `TemporalChangeVersion` (the TypeScript SDK writes one with each patch's
 * marker): counted by the server's `action` counter, exempt from billing on the Cloud.
 */
export const CHANGE_VERSION_UPSERT: ActionKind = 'change-version upsert';
export type ActionCounts = Partial<Record<ActionKind, number>>;

/**
 * Kinds the Cloud page does not list although the server's `action` counter counts them: a memo
 * update (`ModifyWorkflowProperties`). Counted as billable here, to be on the safe side.
 */
export const UNLISTED_KINDS: readonly ActionKind[] = ['memo update'];

/** Kinds users cause by watching a batch (dashboard, CLI), not the batch itself: reported apart. */
export const WATCHING_KINDS: readonly ActionKind[] = ['query'];

/** Kinds left out of every total: not the batch's own cost, or not billed. */
const NOT_IN_TOTAL: readonly ActionKind[] = [...WATCHING_KINDS, CHANGE_VERSION_UPSERT];

const Type = proto.api.enums.v1.EventType;

/** Versioning's own search attribute, which the Cloud does not bill an upsert of. */
const CHANGE_VERSION = 'TemporalChangeVersion';

function add(counts: ActionCounts, kind: ActionKind, n = 1): void {
  if (n > 0) counts[kind] = (counts[kind] ?? 0) + n;
}

/** Whether an upsert only sets versioning's own attribute (a patch's, in SDKs that write it). */
function onlyChangeVersion(event: HistoryEvent): boolean {
  const fields = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {};
  const keys = Object.keys(fields);
  return keys.length > 0 && keys.every((key) => key === CHANGE_VERSION);
}

/**
 * The billable Actions one history shows, by kind. Each is counted where the Cloud counts it: a
 * child's start (2 Actions) in its parent, a signal one workflow sends another in the sender,
 * markers once per workflow task that records any. A child's or a continued run's start event is
 * not its own Action: its parent's command, or the previous run's, was.
 */
export function actionsInHistory(events: readonly HistoryEvent[]): ActionCounts {
  const counts: ActionCounts = {};
  const markerTasks = new Set<string>();
  for (const event of events) {
    switch (event.eventType) {
      case Type.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: {
        const started = event.workflowExecutionStartedEventAttributes;
        if (started?.continuedExecutionRunId) add(counts, 'continue-as-new');
        else if (!started?.parentWorkflowExecution) add(counts, 'workflow start');
        break;
      }
      case Type.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        add(counts, 'child workflow start', 2);
        break;
      case Type.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        add(counts, 'activity');
        break;
      case Type.EVENT_TYPE_ACTIVITY_TASK_STARTED:
        add(counts, 'activity retry', (event.activityTaskStartedEventAttributes?.attempt ?? 1) - 1);
        break;
      case Type.EVENT_TYPE_TIMER_STARTED:
        add(counts, 'timer');
        break;
      case Type.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
        add(counts, 'signal');
        break;
      case Type.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        // A workflow's signal is its sender's Action; one from a client (or an activity) is here.
        if (!event.workflowExecutionSignaledEventAttributes?.externalWorkflowExecution) add(counts, 'signal');
        break;
      case Type.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
        add(counts, onlyChangeVersion(event) ? CHANGE_VERSION_UPSERT : 'search attribute upsert');
        break;
      case Type.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
        add(counts, 'memo update');
        break;
      case Type.EVENT_TYPE_MARKER_RECORDED:
        markerTasks.add(String(event.markerRecordedEventAttributes?.workflowTaskCompletedEventId ?? event.eventId));
        break;
      case Type.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        add(counts, 'update');
        break;
      default:
        break;
    }
  }
  add(counts, 'markers', markerTasks.size);
  return counts;
}

/** `a + b × factor`, kind by kind. */
export function addCounts(a: ActionCounts, b: ActionCounts, factor = 1): ActionCounts {
  const sum: ActionCounts = { ...a };
  for (const [kind, n] of Object.entries(b) as [ActionKind, number][]) add(sum, kind, n * factor);
  return sum;
}

/**
 * The sum of the kinds that are the batch's own billed cost: exempt kinds left out, and queries
 * too unless `unwatched` says nobody watched the batch (then every query was the batch's own: a
 * lined-up tile's hand-over asks the tile ahead for its job).
 */
export function billableTotal(counts: ActionCounts, options: { unwatched?: boolean } = {}): number {
  const left = options.unwatched ? [CHANGE_VERSION_UPSERT] : NOT_IN_TOTAL;
  return (Object.entries(counts) as [ActionKind, number][])
    .filter(([kind]) => !left.includes(kind))
    .reduce((sum, [, n]) => sum + n, 0);
}

/** Rounds every count to two decimals, for the report. */
export function rounded(counts: ActionCounts): Record<string, number> {
  return Object.fromEntries(
    ACTION_KINDS.filter((kind) => counts[kind] !== undefined).map((kind) => [
      kind,
      Math.round(counts[kind]! * 100) / 100,
    ]),
  );
}

/** The server's `action` counter, by its `action_type` label. */
export type ServerActions = Record<string, number>;

/**
 * Reads the `action` counter from a Prometheus text page: one sample per `action_type` (and
 * namespace, service…), summed by `action_type`.
 */
export function parseActionCounter(page: string): ServerActions {
  const byType: ServerActions = {};
  for (const line of page.split('\n')) {
    const match = /^action(?:_total)?\{([^}]*)\}\s+([0-9.eE+-]+)/.exec(line);
    if (!match) continue;
    const type = /(?:^|,)action_type="([^"]*)"/.exec(match[1])?.[1] ?? 'unknown';
    byType[type] = (byType[type] ?? 0) + Number(match[2]);
  }
  return byType;
}

/** What the counter rose by between two readings. */
export function actionsBetween(before: ServerActions, after: ServerActions): ServerActions {
  const rise: ServerActions = {};
  for (const [type, n] of Object.entries(after)) {
    const d = n - (before[type] ?? 0);
    if (d > 0) rise[type] = d;
  }
  return rise;
}

/**
 * The server's action types as this module's kinds. Each marker is counted twice by the server
 * (`command_RecordMarker…` per marker and `command_BatchMarkers` per workflow task); the Cloud
 * bills the second, so the first is left out. A child's start is `…StartChildWorkflowExecution`
 * plus its `…_Extra`: two Actions, as billed.
 */
export function serverKinds(server: ServerActions): ActionCounts {
  const counts: ActionCounts = {};
  for (const [type, n] of Object.entries(server)) {
    const kind = kindOfServerType(type);
    if (kind) add(counts, kind, n);
  }
  return counts;
}

function kindOfServerType(type: string): ActionKind | undefined {
  // The command's enum name, as the server prints it (`ScheduleActivityTask` or `COMMAND_TYPE_…`).
  const plain = type
    .replace(/COMMAND_TYPE_/g, '')
    .replace(/_/g, '')
    .toLowerCase();
  if (plain.startsWith('commandrecordmarker')) return undefined;
  const kinds: [RegExp, ActionKind][] = [
    [/^grpcstartworkflowexecution$/, 'workflow start'],
    [/^commandstartchildworkflowexecution(extra)?$/, 'child workflow start'],
    [/^commandcontinueasnewworkflowexecution$/, 'continue-as-new'],
    [/^commandscheduleactivitytask$/, 'activity'],
    [/^activityretry$/, 'activity retry'],
    [/^grpcrecordactivitytaskheartbeat(byid)?$/, 'heartbeat'],
    [/^commandstarttimer$/, 'timer'],
    [
      /^(commandsignalexternalworkflowexecution|grpcsignalworkflowexecution|grpcsignalwithstartworkflowexecution)$/,
      'signal',
    ],
    [/^commandupsertworkflowsearchattributes$/, 'search attribute upsert'],
    [/^commandmodifyworkflowproperties$/, 'memo update'],
    [/^commandbatchmarkers$/, 'markers'],
    [/^messageupdateworkflowexecution:(acceptance|rejection)$/, 'update'],
    [/^grpcqueryworkflow$/, 'query'],
  ];
  return kinds.find(([pattern]) => pattern.test(plain))?.[1];
}
