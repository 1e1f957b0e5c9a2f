import { Connection } from '@temporalio/client';
import { SearchAttributeType, encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { msToTs, tsToMs } from '@temporalio/common/lib/time';
import { setTimeout as sleep } from 'node:timers/promises';

/** Search attribute types, spelled as the `temporal server start-dev --search-attribute` flag expects them. */
export type DevSearchAttributeType = 'Keyword' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'Text' | 'KeywordList';

/** Custom search attributes to register: name → type. */
export type DevSearchAttributes = Readonly<Record<string, DevSearchAttributeType>>;

const SDK_TYPE_BY_DEV_TYPE: Record<DevSearchAttributeType, SearchAttributeType> = {
  Keyword: 'KEYWORD',
  Int: 'INT',
  Double: 'DOUBLE',
  Bool: 'BOOL',
  Datetime: 'DATETIME',
  Text: 'TEXT',
  KeywordList: 'KEYWORD_LIST',
};

/** Retention used when none is given: Temporal history is this project's job database. */
export const DEFAULT_RETENTION_DAYS = 30;

const DAY_MS = 24 * 60 * 60 * 1000;

/** What the namespace should look like; see {@link ensureNamespaceSetup}. */
export interface NamespaceSetup {
  /** The namespace to create if it does not exist. */
  namespace: string;
  /** How long closed workflow histories are kept. @default 30 */
  retentionDays?: number;
  /** Custom search attributes that must exist in the namespace. @default {} */
  searchAttributes?: DevSearchAttributes;
}

/** True when the server at `address` accepts a connection and its health service reports SERVING. */
export async function isServerHealthy(address: string, timeoutMs = 2_000): Promise<boolean> {
  // lazy() rather than connect(): when connect() times out it keeps its half-open channel
  // without handing it back to be closed, which would keep the Node process alive.
  const connection = Connection.lazy({ address });
  try {
    const response = await connection.withDeadline(Date.now() + timeoutMs, () => connection.healthService.check({}));
    // grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING
    return response.status === 1;
  } catch {
    return false;
  } finally {
    await connection.close().catch(() => {});
  }
}

function isNotFound(error: unknown): boolean {
  // gRPC status 5 = NOT_FOUND
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 5;
}

/**
 * Brings a namespace to the wanted state, idempotently: registers it when missing,
 * sets its retention, and adds missing custom search attributes.
 *
 * The dev server creates its `--namespace` (with `--search-attribute`s and 24 h
 * retention) only when the namespace is not in the database yet, so on a restart
 * with an existing SQLite file, or when reusing a running server, attributes added
 * to the configuration since must be registered here.
 */
export async function ensureNamespaceSetup(connection: Connection, setup: NamespaceSetup): Promise<void> {
  const { namespace, retentionDays = DEFAULT_RETENTION_DAYS, searchAttributes = {} } = setup;
  const retentionMs = retentionDays * DAY_MS;

  let described;
  try {
    described = await connection.workflowService.describeNamespace({ namespace });
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs(retentionMs),
    });
    described = await waitForNamespace(connection, namespace);
  }

  if (tsToMs(described.config?.workflowExecutionRetentionTtl) !== retentionMs) {
    // Same effect as `temporal operator namespace update --retention 720h <namespace>`.
    await connection.workflowService.updateNamespace({
      namespace,
      config: { workflowExecutionRetentionTtl: msToTs(retentionMs) },
    });
  }

  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const wanted = Object.entries(searchAttributes).map(
    ([name, type]) => [name, type, encodeSearchAttributeIndexedValueType(SDK_TYPE_BY_DEV_TYPE[type])!] as const,
  );
  const conflicting = wanted.filter(([name, , code]) => name in customAttributes && customAttributes[name] !== code);
  if (conflicting.length > 0) {
    // Temporal cannot change the type of a registered attribute, so say so instead of failing later.
    const names = conflicting.map(([name, type]) => `${name} (wanted ${type})`).join(', ');
    throw new Error(
      `Search attributes already registered with another type in namespace "${namespace}": ${names}. ` +
        `Rename them in the configuration, or start from a fresh dev-server data directory.`,
    );
  }
  const missing = wanted.filter(([name]) => !(name in customAttributes));
  if (missing.length > 0) {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map(([name, , code]) => [name, code])),
    });
  }
}

/** A freshly registered namespace takes a moment to reach the server's namespace cache. */
async function waitForNamespace(connection: Connection, namespace: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await connection.workflowService.describeNamespace({ namespace });
    } catch (error) {
      if (!isNotFound(error) || Date.now() > deadline) throw error;
      await sleep(200);
    }
  }
}
