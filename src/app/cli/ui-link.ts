/**
 * Links to a batch in the Temporal UI of the server in use. The UI's address is a setting
 * (`--ui-url`, `TEMPORAL_UI_URL`); without it we derive only what we can know: Temporal Cloud's
 * UI for a Cloud address, the UI of a local dev server. For any other server we print no link
 * rather than a wrong one.
 */
import { httpRequest } from '../../core/http/request';
import { readDevServerState } from '../../tools/devserver';
import { temporalTarget } from '../temporal-connection';

/** The UI page of one workflow. */
export function workflowUiLink(uiUrl: string | undefined, namespace: string, workflowId: string): string | undefined {
  return (
    uiUrl &&
    `${uiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`
  );
}

const CLOUD_UI = 'https://cloud.temporal.io';
/** Temporal Cloud's endpoints: namespace (`<ns>.<account>.tmprl.cloud`) and regional API (`<region>.<cloud>.api.temporal.io`). */
const CLOUD_HOST = /(\.tmprl\.cloud|\.api\.temporal\.io)$/i;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);
/** `temporal server start-dev` serves its UI 1000 ports above its gRPC port unless told otherwise. */
const DEV_UI_PORT_OFFSET = 1000;

/** Host and port of a `host:port` address (port 7233 when absent, as in the SDK). */
export function parseAddress(address: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(address.trim());
  if (!match) return { host: address, port: 7233 };
  return { host: match[1].toLowerCase(), port: match[2] ? Number(match[2]) : 7233 };
}

export interface UiLookup {
  /** `--ui-url` or `TEMPORAL_UI_URL`: wins over anything derived. */
  configured?: string;
  /** The Temporal server's `host:port`. */
  address: string;
  /** Where `openeo-temporal dev` keeps its state (its UI address among it). */
  devDataDir: string;
  /** Does something answer HTTP at this URL? (Injected by tests.) */
  answers?: (url: string) => Promise<boolean>;
}

async function answersHttp(url: string): Promise<boolean> {
  try {
    const response = await httpRequest(url, { timeoutMs: 2_000 });
    await response.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

/** The UI of a dev server on this machine: the one `openeo-temporal dev` recorded, else the default port if it answers. */
async function localDevUi(host: string, port: number, lookup: UiLookup): Promise<string | undefined> {
  const recorded = await readDevServerState(lookup.devDataDir).catch(() => undefined);
  if (recorded && parseAddress(recorded.address).port === port) return recorded.uiUrl;
  const candidate = `http://${host}:${port + DEV_UI_PORT_OFFSET}`;
  return (await (lookup.answers ?? answersHttp)(candidate)) ? candidate : undefined;
}

/** The base URL of the Temporal UI for the server in use, or undefined when it cannot be known. */
export async function temporalUiUrl(lookup: UiLookup): Promise<string | undefined> {
  if (lookup.configured) return lookup.configured.replace(/\/+$/, '');
  const { host, port } = parseAddress(lookup.address);
  if (CLOUD_HOST.test(host)) return CLOUD_UI;
  if (LOOPBACK.has(host)) return localDevUi(host, port, lookup);
  return undefined;
}

/** The line the CLI prints under "started batch …": the link, or how to get one. */
export function uiLinkLine(uiUrl: string | undefined, namespace: string, workflowId: string): string {
  return (
    workflowUiLink(uiUrl, namespace, workflowId) ??
    'Temporal UI: unknown for this server; set TEMPORAL_UI_URL (or --ui-url) to get a link'
  );
}

/** Where `openeo-temporal dev` keeps its state, relative to the working directory. */
export const DEV_DATA_DIR = '.openeo-temporal';

/** The Temporal UI of the server this CLI talks to: `--ui-url`, else `TEMPORAL_UI_URL`, else derived. */
export async function cliTemporalUiUrl(flag: string | undefined): Promise<string | undefined> {
  // The client connects to this address (the SDK's default when none is set).
  const address = temporalTarget().connectionOptions.address ?? 'localhost:7233';
  return temporalUiUrl({ configured: flag ?? process.env.TEMPORAL_UI_URL, address, devDataDir: DEV_DATA_DIR });
}
