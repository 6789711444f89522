import { parseMetadata, type EventMetadata, type PerformanceEvent } from '../../shared/events';
import { silentLogger, type Logger } from '../../shared/logger';
import type { MetricsSummary } from '../../shared/summary';
import {
  ALL_TIME_BUCKET,
  SqliteMetricsFile,
  type BatchEvent,
  type EventQuery,
  type EventRow,
  type OpenOptions,
  type RollupRow,
  type StoredEventRow,
} from '../store/sqliteMetricsFile';
import { sampleFromRow } from './eventSample';
import { MetricsAggregates, mergeByLabels, minuteOf, type LabelledCell } from './metricsAggregates';
import { buildRequestEvent, type RequestOutcome } from './requestEvent';
import { RollupCell } from './rollupCell';
import { buildSummary } from './summary';

export interface MetricsStoreOptions extends OpenOptions {
  path: string;
  /** Upper bound on how long a recorded event waits before it is written. */
  flushIntervalMs?: number;
  /** A batch this large is written at once, without waiting for the interval. */
  maxBatch?: number;
  /** Minutes of per-minute aggregates kept in memory for windowed summaries. */
  retentionMinutes?: number;
  /** Unix seconds; injectable for tests. */
  clock?: () => number;
  log?: Logger;
}

/** A batch of events just written. Decoding is on demand: most listeners need a few events or none. */
export interface WrittenBatch {
  /** Timestamps of every event in the batch, in write order. */
  readonly timestamps: readonly number[];
  /** The newest `limit` events of the batch (all by default), oldest first, with their ids. */
  events(limit?: number): PerformanceEvent[];
}

export type EventListener = (batch: WrittenBatch) => void;

export function decodeEvent(row: StoredEventRow): PerformanceEvent {
  const metadata = parseMetadata(row.metadata) as PerformanceEvent['metadata'];
  return {
    id: row.id,
    model_id: row.model_id,
    user_id: row.user_id,
    event_type: row.event_type,
    duration: row.duration,
    timestamp: row.timestamp,
    metadata,
  };
}

/**
 * The metrics core: records finished requests, keeps the aggregates, writes both to SQLite in
 * batches off the request path, and answers summaries and export inputs from memory.
 */
/** What `/api/diffusion/health` says about the store. */
export interface StoreHealth {
  path: string;
  /** False while writes fail (they are retried with back-off; nothing is dropped). */
  ok: boolean;
  pending_events: number;
  consecutive_failures: number;
  last_error: string | null;
}

export class MetricsStore {
  private readonly db: SqliteMetricsFile;
  private readonly aggregates: MetricsAggregates;
  private readonly clock: () => number;
  private readonly log: Logger;
  private readonly flushIntervalMs: number;
  private readonly maxBatch: number;
  private pending: BatchEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private failures = 0;
  private lastError: string | null = null;
  private lastCompaction = Number.NEGATIVE_INFINITY;
  private closed = false;
  private readonly listeners = new Set<EventListener>();

  private constructor(db: SqliteMetricsFile, options: MetricsStoreOptions) {
    this.db = db;
    this.clock = options.clock ?? (() => Date.now() / 1000);
    this.log = options.log ?? silentLogger;
    this.flushIntervalMs = options.flushIntervalMs ?? 50;
    this.maxBatch = options.maxBatch ?? 5000;
    this.aggregates = new MetricsAggregates(options.retentionMinutes);
  }

  /** Opens (creating or migrating) the database and loads the aggregates. Throws on an unusable file. */
  static open(options: MetricsStoreOptions): MetricsStore {
    const db = new SqliteMetricsFile(options.path, options);
    try {
      const store = new MetricsStore(db, options);
      store.compactOldMinutes();
      store.aggregates.load(db.allTimeRollups());
      const now = store.clock();
      store.aggregates.load(db.rollupsBetween(store.aggregates.oldestRetainedMinute(now), Number.MAX_SAFE_INTEGER));
      store.foldUnrolledEvents();
      return store;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /**
   * Folds events that are in the table but not yet in the rollups (a seed-shaped database written
   * by another program, or rows another program appended while we were not running).
   */
  private foldUnrolledEvents(): void {
    const from = this.db.watermark();
    const to = this.db.maxEventId();
    if (to <= from) return;
    const started = Date.now();
    this.log.info(`folding ${to - from} stored events into the aggregates`);
    const now = this.clock();
    let lastId = from;
    let folded = 0;
    let failures: StoredEventRow[] = [];
    for (const row of this.db.eventsAfter(from)) {
      const sample = sampleFromRow(row);
      this.aggregates.add(sample, now);
      if (!sample.success) failures.push(row);
      lastId = row.id;
      folded += 1;
      // Large histories are written in slices so memory stays bounded.
      if (this.aggregates.dirtyCount >= 20_000 || failures.length >= 20_000) {
        this.persist([], lastId, failures);
        failures = [];
      }
    }
    this.persist([], lastId, failures);
    this.log.info(`folded ${folded} events up to id ${lastId} in ${Date.now() - started} ms`);
  }

  /** Writes events and every dirty rollup in one transaction; late deltas are merged into stored rows. */
  private persist(events: readonly BatchEvent[], watermark?: number, foldedFailures: readonly StoredEventRow[] = []): number {
    const lastId = this.db.writeBatch(
      events,
      () => {
        const minute = this.aggregates.dirtyRows();
        const hourly: RollupRow[] = [];
        for (const { granularity, bucket, eventType, modelId, cell } of this.aggregates.lateCells()) {
          const stored = granularity === 'hour' ? this.db.hourlyRollup(bucket, eventType, modelId) : this.db.rollup(bucket, eventType, modelId);
          const merged = stored ? RollupCell.fromRow(stored) : new RollupCell();
          merged.merge(cell);
          (granularity === 'hour' ? hourly : minute).push({ bucket, event_type: eventType, model_id: modelId, ...merged.toRow() });
        }
        return { minute, hourly };
      },
      watermark,
      foldedFailures,
    );
    this.aggregates.markClean();
    this.aggregates.prune(this.clock());
    return lastId;
  }

  private compactionThreshold(now: number): number {
    return this.aggregates.compactionThreshold(now);
  }

  /**
   * Folds minute rollups older than the in-memory retention into hour rollups, so the rollup
   * table stays about a day of minutes plus one row per hour, however long the history.
   */
  compactOldMinutes(): void {
    const threshold = this.compactionThreshold(this.clock());
    if (threshold <= this.lastCompaction) return;
    const minuteRows = this.db.minuteRollupsBefore(threshold);
    this.lastCompaction = threshold;
    if (minuteRows.length === 0) return;
    const hours = new Map<string, LabelledCell & { hour: number }>();
    for (const row of minuteRows) {
      const hour = Math.floor(row.bucket / 60);
      const key = `${hour}\u0000${row.event_type}\u0000${row.model_id}`;
      let entry = hours.get(key);
      if (!entry) {
        const stored = this.db.hourlyRollup(hour, row.event_type, row.model_id);
        entry = { hour, eventType: row.event_type, modelId: row.model_id, cell: stored ? RollupCell.fromRow(stored) : new RollupCell() };
        hours.set(key, entry);
      }
      entry.cell.merge(RollupCell.fromRow(row));
    }
    this.db.compactMinutes(
      [...hours.values()].map(({ hour, eventType, modelId, cell }) => ({ bucket: hour, event_type: eventType, model_id: modelId, ...cell.toRow() })),
      threshold,
    );
  }

  /**
   * Records a finished request: counted in memory at once, written within `flushIntervalMs`.
   * Never touches the disk itself.
   */
  record(outcome: RequestOutcome): EventMetadata {
    const { row, sample, metadata } = buildRequestEvent(outcome);
    this.enqueue(row, sample);
    return metadata;
  }

  /** Records an already-built row (benchmarks and imports). */
  recordRow(row: EventRow): void {
    this.enqueue(row, sampleFromRow(row));
  }

  private enqueue(row: EventRow, sample: ReturnType<typeof sampleFromRow>): void {
    if (this.closed) throw new Error('metrics store is closed');
    this.aggregates.add(sample, this.clock());
    this.pending.push({ row, failed: !sample.success });
    if (this.pending.length >= this.maxBatch) {
      this.immediate ??= setImmediate(() => {
        this.immediate = undefined;
        this.flush();
      });
    } else {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, this.flushIntervalMs);
    }
  }

  /** Number of recorded events not yet written. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Whether writes succeed, and how far behind they are. */
  health(): StoreHealth {
    return {
      path: this.db.path,
      ok: this.failures === 0,
      pending_events: this.pending.length,
      consecutive_failures: this.failures,
      last_error: this.lastError,
    };
  }

  /**
   * Writes every pending event and changed aggregate in one transaction. On failure nothing is
   * dropped: the batch stays queued and is retried with back-off.
   */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0) return;
    const batch = this.pending;
    let lastId: number;
    try {
      lastId = this.persist(batch);
    } catch (error) {
      this.failures += 1;
      this.lastError = (error as Error).message;
      const delay = Math.min(5000, this.flushIntervalMs * 2 ** this.failures);
      this.log.error(`writing ${batch.length} events failed (${(error as Error).message}); retrying in ${delay} ms`);
      if (!this.closed) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.flush();
        }, delay);
      }
      return;
    }
    this.failures = 0;
    this.lastError = null;
    this.pending = [];
    if (this.compactionThreshold(this.clock()) > this.lastCompaction) {
      try {
        this.compactOldMinutes();
      } catch (error) {
        this.log.warn(`compacting old rollups failed: ${(error as Error).message}`);
      }
    }
    if (this.listeners.size > 0) {
      const written: WrittenBatch = {
        timestamps: batch.map(({ row }) => row.timestamp),
        events: (limit = batch.length) => batch.slice(-limit).map(({ row }, i, tail) => decodeEvent({ ...row, id: lastId - tail.length + 1 + i })),
      };
      for (const listener of this.listeners) listener(written);
    }
  }

  /** Calls `listener` with each batch of events once they are in the database. */
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Aggregate cells for a window (seconds back from now) or for all time. Windows within the
   * in-memory retention are answered from memory; longer ones also read minute rollups.
   */
  cells(windowSeconds?: number): LabelledCell[] {
    if (windowSeconds === undefined) return this.aggregates.allTimeCells();
    const now = this.clock();
    const fromMinute = minuteOf(now - windowSeconds);
    const oldest = this.aggregates.oldestRetainedMinute(now);
    const parts: LabelledCell[] = this.aggregates.cellsSince(Math.max(fromMinute, oldest), minuteOf(now));
    if (fromMinute < oldest) parts.push(...this.storedMinuteCells(fromMinute, oldest - 1));
    return mergeByLabels(parts);
  }

  /**
   * Cells older than memory, read from the database: minute rows not yet compacted, then whole
   * hours (stamped with their first minute, so hour precision). Flushes first.
   */
  storedMinuteCells(fromMinute: number, toMinute: number): Array<LabelledCell & { minute: number }> {
    this.flush();
    const cells: Array<LabelledCell & { minute: number }> = [];
    const add = (minute: number, row: RollupRow): void => {
      if (row.bucket !== ALL_TIME_BUCKET) cells.push({ minute, eventType: row.event_type, modelId: row.model_id, cell: RollupCell.fromRow(row) });
    };
    for (const row of this.db.rollupsBetween(fromMinute, toMinute)) add(row.bucket, row);
    for (const row of this.db.hourlyRollupsBetween(Math.floor(fromMinute / 60), Math.floor(toMinute / 60))) add(row.bucket * 60, row);
    return cells;
  }

  /** Unix seconds of the oldest stored event, or null for an empty table. Flushes first. */
  firstEventTimestamp(): number | null {
    this.flush();
    return this.db.firstTimestamp();
  }

  /** Number of stored events. Flushes first. */
  storedEventCount(): number {
    this.flush();
    return this.db.countEvents();
  }

  /** Up to `limit` stored rows after `afterId`, oldest first, as stored (exports read them raw). */
  storedRowsAfter(afterId: number, limit: number): StoredEventRow[] {
    const rows: StoredEventRow[] = [];
    const iterator = this.db.eventsAfter(afterId);
    try {
      for (const row of iterator) {
        rows.push(row);
        if (rows.length >= limit) break;
      }
    } finally {
      iterator.return?.();
    }
    return rows;
  }

  /** Per-minute cells from `fromMinute` on, in memory only (the dashboard's time series). */
  minuteCells(fromMinute: number): Array<LabelledCell & { minute: number }> {
    return this.aggregates.minuteCells(fromMinute);
  }

  summary(options: { windowSeconds?: number; recentLimit?: number } = {}): MetricsSummary {
    return buildSummary({
      cells: this.cells(options.windowSeconds),
      recentEvents: this.events({ limit: options.recentLimit ?? 20 }),
      windowSeconds: options.windowSeconds ?? null,
      now: this.clock(),
    });
  }

  /** Stored events, newest first. Flushes first so a request that just ended is listed. */
  events(query: EventQuery): PerformanceEvent[] {
    this.flush();
    return this.db.queryEvents(query).map(decodeEvent);
  }

  now(): number {
    return this.clock();
  }

  /** Flushes every pending event and closes the file. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    this.flush();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.pending.length > 0) this.log.error(`${this.pending.length} events could not be written before closing`);
    this.db.close();
  }
}
