/**
 * Pushing a batch's Collection and Items to a STAC API with the Transactions extension: create
 * (POST), and update (PUT) what exists already, so pushing the same item twice leaves one item.
 * An API that does not answer, or answers 5xx/429, is trouble that may pass: the caller's
 * activity retries. Credentials come from the worker's environment only.
 */
import { ApplicationFailure } from '@temporalio/common';
import { HttpError, httpRequest, type HttpRequestOptions } from '../../src/core/http/request';

type HttpMethod = NonNullable<HttpRequestOptions['method']>;

/** Conformance classes of the Transactions extension (STAC API's, and OGC API Features part 4's). */
const TRANSACTION_CONFORMANCE = /\/(extensions\/transaction|conf\/simpletx)$/;

/** The parts of a collection the push reads. */
export interface CollectionDocument {
  id: string;
  extent: { spatial: { bbox: number[][] }; temporal: { interval: (string | null)[][] } };
}

/** The extent around both: the union of the overall bboxes, the earliest start and latest end. */
export function unionExtent(
  ours: CollectionDocument['extent'],
  theirs: CollectionDocument['extent'] | undefined,
): CollectionDocument['extent'] {
  const a = ours.spatial.bbox[0];
  const b = theirs?.spatial?.bbox?.[0];
  const bbox =
    b?.length === 4 && a.length === 4
      ? [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[2], b[2]), Math.max(a[3], b[3])]
      : a;
  const [start, end] = ours.temporal.interval[0];
  const [otherStart, otherEnd] = theirs?.temporal?.interval?.[0] ?? [null, null];
  // RFC 3339 in UTC sorts as text; a null end stays open.
  const earliest = [start, otherStart].filter((t): t is string => t !== null).sort()[0] ?? null;
  const latest =
    [end, otherEnd]
      .filter((t): t is string => t !== null)
      .sort()
      .pop() ?? null;
  return { spatial: { bbox: [bbox] }, temporal: { interval: [[earliest, latest]] } };
}

/** Headers for the API: `STAC_API_TOKEN` on the worker becomes a bearer token. */
export function stacApiHeaders(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const token = env.STAC_API_TOKEN;
  return token ? { Authorization: `Bearer ${token}` } : {};
}

function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path}`;
}

export class StacApiClient {
  constructor(
    readonly url: string,
    private readonly headers: Record<string, string> = stacApiHeaders(),
    private readonly timeoutMs = 30_000,
  ) {}

  /** How messages name a request: the API, then the method and path. */
  private label(method: HttpMethod, path: string): string {
    return `the STAC API at ${this.url}: ${method} /${path}`;
  }

  /** The answer, whatever its status; an `HttpError` when none came. */
  private request(method: HttpMethod, path: string, json?: unknown): Promise<Response> {
    const target = path === '' ? this.url : joinUrl(this.url, path);
    const headers = { Accept: 'application/json', ...this.headers };
    return httpRequest(target, { method, headers, json, timeoutMs: this.timeoutMs, label: this.label(method, path) });
  }

  private async fail(method: HttpMethod, path: string, response: Response): Promise<never> {
    throw await HttpError.fromAnswer(response, this.label(method, path));
  }

  /** Why this URL cannot take our pushes, or undefined when its landing page offers transactions. */
  async transactionProblem(): Promise<string | undefined> {
    const response = await this.request('GET', '');
    if (!response.ok)
      return `its landing page answered ${response.status}; give the STAC API's landing page (the URL that lists "conformsTo")`;
    const landing = (await response.json().catch(() => undefined)) as { conformsTo?: unknown } | undefined;
    const classes = Array.isArray(landing?.conformsTo) ? (landing.conformsTo as unknown[]).map(String) : [];
    if (!classes.some((c) => TRANSACTION_CONFORMANCE.test(c))) {
      return 'its landing page does not list the Transactions extension in "conformsTo": enable transactions on the API (stac-fastapi: ENABLE_TRANSACTIONS_EXTENSIONS=true) or leave out stac.api';
    }
    return undefined;
  }

  /** POST, and PUT to `updatePath` when the document exists already. */
  private async upsert(createPath: string, updatePath: string, doc: unknown): Promise<'created' | 'updated'> {
    const created = await this.request('POST', createPath, doc);
    if (created.ok) return 'created';
    if (created.status !== 409) return this.fail('POST', createPath, created);
    await created.body?.cancel();
    const updated = await this.request('PUT', updatePath, doc);
    if (!updated.ok) return this.fail('PUT', updatePath, updated);
    return 'updated';
  }

  /**
   * Creates the collection, or updates it with an extent that also spans what the API had:
   * workers with their own output folders each know only their tiles, so none may shrink it.
   */
  async upsertCollection(collection: CollectionDocument): Promise<'created' | 'updated'> {
    const path = `collections/${encodeURIComponent(collection.id)}`;
    const created = await this.request('POST', 'collections', collection);
    if (created.ok) return 'created';
    if (created.status !== 409) return this.fail('POST', 'collections', created);
    await created.body?.cancel();
    const current = await this.request('GET', path);
    if (!current.ok) return this.fail('GET', path, current);
    const existing = (await current.json()) as Partial<CollectionDocument>;
    const updated = await this.request('PUT', path, {
      ...collection,
      extent: unionExtent(collection.extent, existing.extent),
    });
    if (!updated.ok) return this.fail('PUT', path, updated);
    return 'updated';
  }

  upsertItem(collectionId: string, item: { id: string }): Promise<'created' | 'updated'> {
    const items = `collections/${encodeURIComponent(collectionId)}/items`;
    return this.upsert(items, `${items}/${encodeURIComponent(item.id)}`, item);
  }
}

/** The activity failure for a push that did not go through: retried unless retrying cannot help. */
export function stacPushFailure(err: unknown): ApplicationFailure {
  if (!(err instanceof HttpError)) return ApplicationFailure.fromError(err);
  if (err.transient) return ApplicationFailure.create({ message: err.message, type: 'StacApiUnavailable' });
  return ApplicationFailure.nonRetryable(err.message, 'StacApiRefused');
}
