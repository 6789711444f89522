import Database from 'better-sqlite3';
import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import { migrate } from './migrations';

/** A row of `performance_events` as written: metadata already serialised. */
export interface EventRow {
  model_id: string;
  user_id: string;
  event_type: string;
  duration: number;
  timestamp: number;
  metadata: string;
}

export interface StoredEventRow extends EventRow {
  id: number;
}

/**
 * A persisted aggregate row: in `metric_rollups`, `bucket` is the minute number (Unix seconds / 60)
 * or ALL_TIME_BUCKET; in `metric_rollups_hourly` it is the hour number (Unix seconds / 3600).
 */
export interface RollupRow {
  bucket: number;
  event_type: string;
  model_id: string;
  /** The aggregate cell as JSON (see RollupCell.toRow). */
  data: string;
}

/** Rollup rows to persist with a batch: `minute` rows replace stored ones, `hourly` rows too. */
export interface RollupWrite {
  minute: readonly RollupRow[];
  hourly: readonly RollupRow[];
}

export const ALL_TIME_BUCKET = -1;

export interface EventQuery {
  limit: number;
  /** Only events with an id below this one (keyset pagination, newest first). */
  beforeId?: number;
  eventType?: string;
  modelId?: string;
  outcome?: 'success' | 'error';
  /** Only the event with this request id (`metadata.request_id`, the response's X-Request-Id). */
  requestId?: string;
  /** Only events that started at or after this Unix time, in seconds. */
  since?: number;
}

/** A written event and whether it failed (failed ones are also listed in `failed_events`). */
export interface BatchEvent {
  row: EventRow;
  failed: boolean;
}

const EVENT_COLUMNS = 'p.id, p.model_id, p.user_id, p.event_type, p.duration, p.timestamp, p.metadata';

function eventsStatement(query: EventQuery): { sql: string; params: Record<string, unknown> } {
  const params: Record<string, unknown> = { limit: query.limit };
  // Errors only: walk the small failed_events table newest first (CROSS JOIN keeps it the outer
  // loop) and fetch each row by id. Otherwise walk the events, skipping failed ids for "success".
  const on = query.outcome === 'error' ? 'f' : 'p';
  const where: string[] = [];
  if (query.beforeId !== undefined) {
    where.push(`${on}.id < @beforeId`);
    params.beforeId = query.beforeId;
  }
  if (query.eventType !== undefined) {
    where.push(`${on}.event_type = @eventType`);
    params.eventType = query.eventType;
  }
  if (query.modelId !== undefined) {
    where.push(`${on}.model_id = @modelId`);
    params.modelId = query.modelId;
  }
  if (query.since !== undefined) {
    where.push('p.timestamp >= @since');
    params.since = query.since;
  }
  if (query.requestId !== undefined) {
    // A search reads the metadata of the rows it walks (no index on it: writes stay cheap); the
    // other filters narrow the walk first.
    where.push("json_extract(p.metadata, '$.request_id') = @requestId");
    params.requestId = query.requestId;
  }
  if (query.outcome === 'success') where.push('NOT EXISTS (SELECT 1 FROM failed_events f WHERE f.id = p.id)');
  const from = query.outcome === 'error' ? 'failed_events f CROSS JOIN performance_events p ON p.id = f.id' : 'performance_events p';
  const sql = `SELECT ${EVENT_COLUMNS} FROM ${from}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${on}.id DESC LIMIT @limit`;
  return { sql, params };
}

export interface OpenOptions {
  /** Path to a better-sqlite3 native binding built for another ABI (the Electron app uses this). */
  nativeBinding?: string;
  readonly?: boolean;
}

/**
 * The SQLite metrics file: the seed's `performance_events` table plus our rollups. Owns its
 * migrations and prepared statements; knows nothing about HTTP or Electron. Only `MetricsStore`
 * (metrics/, the aggregates and the write queue in front of it) opens one.
 */
export class SqliteMetricsFile {
  readonly path: string;
  private readonly db: SqliteDatabase;
  private readonly insertEvent: Statement<[EventRow]>;
  private readonly upsertRollup: Statement<[RollupRow]>;
  private readonly upsertHourly: Statement<[RollupRow]>;
  private readonly setWatermark: Statement<[number]>;
  private readonly insertFailed: Statement<[number, string, string]>;

  constructor(path: string, options: OpenOptions = {}) {
    this.path = path;
    this.db = new Database(path, {
      ...(options.nativeBinding ? { nativeBinding: options.nativeBinding } : {}),
      fileMustExist: false,
    });
    try {
      this.db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode never corrupts the file on a crash; it may lose the last commits on power loss only.
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('busy_timeout = 5000');
      migrate(this.db);
    } catch (error) {
      this.db.close();
      throw error;
    }
    this.insertEvent = this.db.prepare(
      `INSERT INTO performance_events (model_id, user_id, event_type, duration, timestamp, metadata)
       VALUES (@model_id, @user_id, @event_type, @duration, @timestamp, @metadata)`,
    );
    this.upsertRollup = this.db.prepare(
      `INSERT INTO metric_rollups (bucket, event_type, model_id, data)
       VALUES (@bucket, @event_type, @model_id, @data)
       ON CONFLICT (bucket, event_type, model_id) DO UPDATE SET
         data = excluded.data`,
    );
    this.upsertHourly = this.db.prepare(
      `INSERT INTO metric_rollups_hourly (hour, event_type, model_id, data) VALUES (@bucket, @event_type, @model_id, @data)
       ON CONFLICT (hour, event_type, model_id) DO UPDATE SET data = excluded.data`,
    );
    this.setWatermark = this.db.prepare('UPDATE rollup_watermark SET last_event_id = ? WHERE id = 1');
    this.insertFailed = this.db.prepare('INSERT OR IGNORE INTO failed_events (id, event_type, model_id) VALUES (?, ?, ?)');
  }

  /**
   * Writes a batch of events and the rollups they changed in one transaction, so the events and
   * the aggregates never disagree, even after a crash. Returns the id of the last event written.
   */
  writeBatch(events: readonly BatchEvent[], rollups: () => RollupWrite, watermark?: number, foldedFailures: readonly StoredEventRow[] = []): number {
    return this.db.transaction(() => {
      let lastId = 0;
      for (const { row, failed } of events) {
        lastId = Number(this.insertEvent.run(row).lastInsertRowid);
        if (failed) this.insertFailed.run(lastId, row.event_type, row.model_id);
      }
      // Failed rows another program wrote, found while folding them into the rollups.
      for (const row of foldedFailures) this.insertFailed.run(row.id, row.event_type, row.model_id);
      // Computed inside the transaction: merging late rows reads the stored ones.
      const { minute, hourly } = rollups();
      for (const row of minute) this.upsertRollup.run(row);
      for (const row of hourly) this.upsertHourly.run(row);
      const mark = Math.max(lastId, watermark ?? 0);
      if (mark > 0) this.setWatermark.run(mark);
      return lastId;
    })();
  }

  watermark(): number {
    const row = this.db.prepare('SELECT last_event_id FROM rollup_watermark WHERE id = 1').get() as { last_event_id: number } | undefined;
    return row?.last_event_id ?? 0;
  }

  maxEventId(): number {
    const row = this.db.prepare('SELECT max(id) AS id FROM performance_events').get() as { id: number | null };
    return row.id ?? 0;
  }

  /** Minute rows older than `beforeMinute` (candidates for compaction into hours). */
  minuteRollupsBefore(beforeMinute: number): RollupRow[] {
    return this.db.prepare('SELECT bucket, event_type, model_id, data FROM metric_rollups WHERE bucket >= 0 AND bucket < ?').all(beforeMinute) as RollupRow[];
  }

  hourlyRollup(hour: number, eventType: string, modelId: string): RollupRow | undefined {
    return this.db
      .prepare('SELECT hour AS bucket, event_type, model_id, data FROM metric_rollups_hourly WHERE hour = ? AND event_type = ? AND model_id = ?')
      .get(hour, eventType, modelId) as RollupRow | undefined;
  }

  /** Hour rows with `fromHour <= hour <= toHour`. */
  hourlyRollupsBetween(fromHour: number, toHour: number): RollupRow[] {
    return this.db
      .prepare('SELECT hour AS bucket, event_type, model_id, data FROM metric_rollups_hourly WHERE hour >= ? AND hour <= ?')
      .all(fromHour, toHour) as RollupRow[];
  }

  /** Replaces the minute rows before `beforeMinute` by the given (already merged) hour rows, atomically. */
  compactMinutes(hourRows: readonly RollupRow[], beforeMinute: number): void {
    this.db.transaction(() => {
      for (const row of hourRows) this.upsertHourly.run(row);
      this.db.prepare('DELETE FROM metric_rollups WHERE bucket >= 0 AND bucket < ?').run(beforeMinute);
    })();
  }

  /** Events after `afterId` in id order, streamed (for folding them into the rollups). */
  eventsAfter(afterId: number): IterableIterator<StoredEventRow> {
    return this.db
      .prepare('SELECT id, model_id, user_id, event_type, duration, timestamp, metadata FROM performance_events WHERE id > ? ORDER BY id')
      .iterate(afterId) as IterableIterator<StoredEventRow>;
  }

  /** Minute rows in a range, read one at a time (start-up loads a day of them; no array of all). */
  rollupsBetween(fromMinute: number, toMinute: number): IterableIterator<RollupRow> {
    return this.db
      .prepare('SELECT bucket, event_type, model_id, data FROM metric_rollups WHERE bucket >= ? AND bucket <= ?')
      .iterate(Math.max(0, fromMinute), toMinute) as IterableIterator<RollupRow>;
  }

  rollup(bucket: number, eventType: string, modelId: string): RollupRow | undefined {
    return this.db
      .prepare('SELECT bucket, event_type, model_id, data FROM metric_rollups WHERE bucket = ? AND event_type = ? AND model_id = ?')
      .get(bucket, eventType, modelId) as RollupRow | undefined;
  }

  allTimeRollups(): RollupRow[] {
    return this.db.prepare('SELECT bucket, event_type, model_id, data FROM metric_rollups WHERE bucket = ?').all(ALL_TIME_BUCKET) as RollupRow[];
  }

  /** Newest first, filtered; uses the id-ordered indexes so a page costs the same at any table size. */
  queryEvents(query: EventQuery): StoredEventRow[] {
    const { sql, params } = eventsStatement(query);
    return this.db.prepare(sql).all(params) as StoredEventRow[];
  }

  /** SQLite's plan for `queryEvents(query)`, one line per step (tests check which index it uses). */
  explainEvents(query: EventQuery): string[] {
    const { sql, params } = eventsStatement(query);
    return (this.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as Array<{ detail: string }>).map((row) => row.detail);
  }

  /** Unix seconds of the oldest stored event (the seed's table has an index on `timestamp`). */
  firstTimestamp(): number | null {
    const row = this.db.prepare('SELECT min(timestamp) AS first FROM performance_events').get() as { first: number | null } | undefined;
    return row?.first ?? null;
  }

  countEvents(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM performance_events').get() as { n: number }).n;
  }

  /** Runs a read-only statement (tests and benchmarks inspect the file through this). */
  raw(): SqliteDatabase {
    return this.db;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
