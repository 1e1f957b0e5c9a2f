/**
 * A batch's tiles and progress for its open map pages. The first reading takes the batch's whole
 * job database (`client.records`); after that, every interval, only the tiles that ran or ended
 * since (`readChangedTiles`) and the progress. One reading per interval serves every page, and
 * none happens while no page is open.
 */
import { readChangedTiles } from '../../../activities/records/read';
import type { TileRow } from '../../core/records';
import type { OpenEOBatchClient } from '../client';
import { estimateEta, etaBatch, type EtaBatch } from '../eta';
import { isEnded } from '../../core/records';
import type { ProgressView, Snapshot, Summary, TileFeed, Update } from './feed';
import { outlinesForMap } from './outline';
import { quicklookBounds } from './previews';
import { hasQuicklook, tileView, type Bounds, type TileView, type ViewContext } from './tile-view';

/**
 * How far before the last reading the next one looks back: visibility lists a closed workflow
 * shortly after it closed, and the server's clock may differ from ours. Tiles read twice are
 * sent only when they changed.
 */
const LOOK_BACK_MS = 10_000;
/** The batch's progress query needs a worker; without one, it is not waited for longer than this. */
const PROGRESS_TIMEOUT_MS = 10_000;

export interface BatchFeedOptions {
  intervalMs: number;
  view: Omit<ViewContext, 'previewBounds'>;
}

type Listener = (update: Update) => void;

/** Tiles new or changed since the last reading; `added` are new to the page (they need their outline). */
interface Changes {
  rows: TileRow[];
  added: Set<string>;
  problem?: string;
}

export class BatchFeed implements TileFeed {
  private readonly rows = new Map<string, TileRow>();
  /** Where each finished tile's quicklook lies, from its `quicklook.json`, by tile id. */
  private readonly bounds = new Map<string, Bounds | undefined>();
  private readonly listeners = new Set<Listener>();
  private summary: Summary;
  /** Visibility is asked for tiles that changed since then; unset until the first whole reading. */
  private since?: Date;
  private reading?: Promise<void>;
  private lastReadAt = 0;
  private timer?: NodeJS.Timeout;
  private closed = false;
  /** The last progress query, which may outlast its reading (its wait is bounded, the call is not). */
  private progressCall?: Promise<unknown>;

  constructor(
    private readonly client: OpenEOBatchClient,
    readonly batchId: string,
    private readonly options: BatchFeedOptions,
  ) {
    this.summary = { title: batchId, tileCount: 0, costs: 0, updatedAt: new Date().toISOString() };
  }

  /** Resolves once the state is no older than one interval. */
  ready(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.reading) return this.reading;
    if (Date.now() - this.lastReadAt < this.options.intervalMs) return Promise.resolve();
    return this.readAndSend();
  }

  snapshot(): Snapshot {
    return { tiles: [...this.rows.values()].map((row) => this.view(row, true)), summary: this.summary };
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    this.schedule();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stopTimer();
    };
  }

  row(tileId: string): TileRow | undefined {
    return this.rows.get(tileId);
  }

  /** Stops reading; resolves once no call to Temporal is under way (its connection may close then). */
  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.stopTimer();
    await Promise.allSettled([this.reading, this.progressCall]);
  }

  private schedule(): void {
    if (this.timer || this.reading || this.closed || this.listeners.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.readAndSend();
    }, this.options.intervalMs);
  }

  private stopTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One reading of Temporal, sent to every open page; the next one is scheduled after it ends. */
  private readAndSend(): Promise<void> {
    this.reading = this.read()
      .then((update) => {
        for (const listener of this.listeners) listener(update);
      })
      .finally(() => {
        this.reading = undefined;
        this.lastReadAt = Date.now();
        this.schedule();
      });
    return this.reading;
  }

  private async read(): Promise<Update> {
    const startedAt = Date.now();
    let problem: string | undefined;
    let changed: Changes = { rows: [], added: new Set() };
    try {
      changed = this.since ? await this.readChanges(this.since) : await this.readAll();
      this.since = new Date(startedAt - LOOK_BACK_MS);
      problem = changed.problem;
    } catch (err) {
      problem = `cannot read batch ${this.batchId} from Temporal: ${message(err)}`;
    }
    await this.readBounds(changed.rows);
    // The progress is asked for after the tiles, so its counts include every tile this reading
    // shows ended: a tile's workflow closes only once the batch has its last signal.
    this.summary = this.summaryOf(await this.readProgress(), problem);
    return { tiles: changed.rows.map((row) => this.view(row, changed.added.has(row.tileId))), summary: this.summary };
  }

  private async readAll(): Promise<Changes> {
    const records = await this.client.records(this.batchId);
    return {
      ...this.merge(await outlinesForMap(records.tiles)),
      ...(records.problem ? { problem: records.problem } : {}),
    };
  }

  private async readChanges(since: Date): Promise<Changes> {
    const rows = await readChangedTiles(this.client.client, this.batchId, since);
    // A tile added to the batch while it runs has no outline here yet: the whole reading has it.
    if (rows.some((row) => !this.rows.has(row.tileId))) return this.readAll();
    return this.merge(rows);
  }

  /** Takes in rows read from Temporal; returns those that are new or changed. */
  private merge(rows: TileRow[]): Changes {
    const changed: TileRow[] = [];
    const added = new Set<string>();
    for (const read of rows) {
      const known = this.rows.get(read.tileId);
      const row = { ...read, geometry: read.geometry ?? known?.geometry ?? null };
      if (!known) added.add(row.tileId);
      if (!known || JSON.stringify({ ...known, geometry: null }) !== JSON.stringify({ ...row, geometry: null }))
        changed.push(row);
      this.rows.set(row.tileId, row);
    }
    return { rows: changed, added };
  }

  private async readBounds(rows: TileRow[]): Promise<void> {
    await Promise.all(
      rows.filter(hasQuicklook).map(async (row) => {
        this.bounds.set(row.tileId, await quicklookBounds(row));
      }),
    );
  }

  private view(row: TileRow, withGeometry: boolean): TileView {
    return tileView(row, { ...this.options.view, previewBounds: this.bounds.get(row.tileId) }, withGeometry);
  }

  /** The batch's progress, or why there is none (a batch whose workflow is gone, no worker to answer). */
  private async readProgress(): Promise<ProgressRead> {
    const call = this.client.progress(this.batchId);
    this.progressCall = call.catch(() => undefined);
    return withTimeout(call, PROGRESS_TIMEOUT_MS).then(progressView, (err: unknown) => ({
      problem: `no progress from the batch workflow (${message(err)}); the counts are the map's`,
    }));
  }

  private summaryOf(read: ProgressRead, tilesProblem: string | undefined): Summary {
    return batchSummary(this.batchId, read, [...this.rows.values()], tilesProblem, new Date());
  }
}

/**
 * The batch's figures for its pages: from its progress when the batch answered, else from the
 * tiles on the map. Its ETA is the one the terminal's progress bar shows (`estimateEta`).
 */
export function batchSummary(
  batchId: string,
  read: ProgressRead,
  rows: TileRow[],
  tilesProblem: string | undefined,
  now: Date,
): Summary {
  const progress = 'view' in read ? read : undefined;
  const problem = tilesProblem ?? ('problem' in read ? read.problem : undefined);
  const tileCosts = rows.reduce((sum, row) => sum + (row.costs ?? 0), 0);
  const tiles = progress?.eta ?? mapTiles(rows);
  const eta = progress?.closed ? undefined : estimateEta(tiles, rows, now);
  return {
    title: batchId,
    tileCount: rows.length,
    done: tiles.done,
    costs: progress?.costs ?? tileCosts,
    ...(progress ? { progress: progress.view } : {}),
    ...(eta ? { eta } : {}),
    ...(problem ? { problem } : {}),
    updatedAt: now.toISOString(),
  };
}

/** The batch as the map's tiles tell it, when the batch does not answer (no tile is known to be held back). */
function mapTiles(rows: TileRow[]): EtaBatch {
  return { totalTiles: rows.length, done: rows.filter((row) => isEnded(row.status)).length, stalled: false };
}

type Progress = Awaited<ReturnType<OpenEOBatchClient['progress']>>;

/** The batch's progress as the page shows it, or why it could not be read. */
export type ProgressRead = ReturnType<typeof progressView> | { problem: string };

export function progressView(p: Progress): { view: ProgressView; costs: number; closed: boolean; eta: EtaBatch } {
  const view: ProgressView = {
    totalTiles: p.totalTiles,
    counts: { ...p.counts },
    paused: p.paused,
    pausedBackends: p.pausedBackends,
    closed: p.closed,
    ...(p.problem ? { problem: p.problem } : {}),
    ...(p.failure ? { failure: p.failure } : {}),
  };
  return { view, costs: p.costs, closed: p.closed, eta: etaBatch(p) };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
