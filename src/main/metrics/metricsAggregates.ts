import { ALL_TIME_BUCKET, type RollupRow } from '../store/metricsDatabase';
import type { EventSample } from './eventSample';
import { RollupCell } from './rollupCell';

/** One aggregate cell with the labels it belongs to. */
export interface LabelledCell {
  eventType: string;
  modelId: string;
  cell: RollupCell;
}

const SEP = '\u0000';
const cellKey = (eventType: string, modelId: string): string => `${eventType}${SEP}${modelId}`;

function splitKey(key: string): { eventType: string; modelId: string } {
  const at = key.indexOf(SEP);
  return { eventType: key.slice(0, at), modelId: key.slice(at + 1) };
}

export const minuteOf = (timestampSeconds: number): number => Math.floor(timestampSeconds / 60);

/**
 * The in-memory cache of the rollups: all-time cells per (event type, model) and per-minute cells
 * for the recent past. Updated on every recorded event; cells changed since the last write are
 * "dirty" until the writer persists them. The database stays the source of truth.
 */
export class MetricsAggregates {
  private readonly allTime = new Map<string, RollupCell>();
  private readonly minutes = new Map<number, Map<string, RollupCell>>();
  private readonly dirty = new Map<string, { bucket: number; key: string; cell: RollupCell }>();
  /** How many minutes of per-minute cells stay in memory; longer windows read the database. */
  readonly retentionMinutes: number;

  constructor(retentionMinutes = 25 * 60) {
    this.retentionMinutes = retentionMinutes;
  }

  add(sample: EventSample): void {
    const key = cellKey(sample.eventType, sample.modelId);
    this.cellIn(this.allTime, ALL_TIME_BUCKET, key).add(sample);
    const minute = minuteOf(sample.timestamp);
    let perMinute = this.minutes.get(minute);
    if (!perMinute) {
      perMinute = new Map();
      this.minutes.set(minute, perMinute);
    }
    this.cellIn(perMinute, minute, key).add(sample);
  }

  private cellIn(cells: Map<string, RollupCell>, bucket: number, key: string): RollupCell {
    let cell = cells.get(key);
    if (!cell) {
      cell = new RollupCell();
      cells.set(key, cell);
    }
    this.dirty.set(`${bucket}${SEP}${key}`, { bucket, key, cell });
    return cell;
  }

  /** Serialised rows of every cell changed since `markClean()`. */
  dirtyRows(): RollupRow[] {
    const rows: RollupRow[] = [];
    for (const { bucket, key, cell } of this.dirty.values()) {
      const { eventType, modelId } = splitKey(key);
      rows.push({ bucket, event_type: eventType, model_id: modelId, ...cell.toRow() });
    }
    return rows;
  }

  markClean(): void {
    this.dirty.clear();
  }

  /** Loads persisted rows (all-time rows and recent minute rows) into memory. */
  load(rows: Iterable<RollupRow>): void {
    for (const row of rows) {
      const key = cellKey(row.event_type, row.model_id);
      const cell = RollupCell.fromRow(row);
      if (row.bucket === ALL_TIME_BUCKET) {
        this.allTime.set(key, cell);
      } else {
        let perMinute = this.minutes.get(row.bucket);
        if (!perMinute) {
          perMinute = new Map();
          this.minutes.set(row.bucket, perMinute);
        }
        perMinute.set(key, cell);
      }
    }
  }

  /** The first minute still held in memory for a clock at `nowSeconds`. */
  oldestRetainedMinute(nowSeconds: number): number {
    return minuteOf(nowSeconds) - this.retentionMinutes;
  }

  /** Drops minute cells older than the retention (they remain in the database). */
  prune(nowSeconds: number): void {
    const oldest = this.oldestRetainedMinute(nowSeconds);
    for (const minute of this.minutes.keys()) {
      if (minute < oldest && !this.hasDirty(minute)) this.minutes.delete(minute);
    }
  }

  private hasDirty(minute: number): boolean {
    for (const entry of this.dirty.values()) if (entry.bucket === minute) return true;
    return false;
  }

  /** All-time cells, live objects: callers must not mutate them. */
  allTimeCells(): LabelledCell[] {
    return [...this.allTime].map(([key, cell]) => ({ ...splitKey(key), cell }));
  }

  /** Minute cells with `minute >= fromMinute`, in ascending minute order. */
  minuteCells(fromMinute: number, toMinute = Number.POSITIVE_INFINITY): Array<LabelledCell & { minute: number }> {
    const out: Array<LabelledCell & { minute: number }> = [];
    const minutes = [...this.minutes.keys()].filter((m) => m >= fromMinute && m <= toMinute).sort((a, b) => a - b);
    for (const minute of minutes) {
      for (const [key, cell] of this.minutes.get(minute) ?? []) out.push({ minute, ...splitKey(key), cell });
    }
    return out;
  }
}

/** Merges labelled cells into one cell per (event type, model). */
export function mergeByLabels(cells: Iterable<LabelledCell>): LabelledCell[] {
  const merged = new Map<string, RollupCell>();
  for (const { eventType, modelId, cell } of cells) {
    const key = cellKey(eventType, modelId);
    let into = merged.get(key);
    if (!into) {
      into = new RollupCell();
      merged.set(key, into);
    }
    into.merge(cell);
  }
  return [...merged].map(([key, cell]) => ({ ...splitKey(key), cell }));
}
