import { ALL_TIME_BUCKET, type RollupRow } from '../store/sqliteMetricsFile';
import type { EventSample } from './eventSample';
import { RollupCell } from './rollupCell';

/** One aggregate cell with the labels it belongs to. */
export interface LabelledCell {
  eventType: string;
  modelId: string;
  cell: RollupCell;
}

const SEP = '\u0000';
export const cellKey = (eventType: string, modelId: string): string => `${eventType}${SEP}${modelId}`;

export function splitKey(key: string): { eventType: string; modelId: string } {
  const at = key.indexOf(SEP);
  return { eventType: key.slice(0, at), modelId: key.slice(at + 1) };
}

export const minuteOf = (timestampSeconds: number): number => Math.floor(timestampSeconds / 60);

/** A delta for a stored minute (`granularity: 'minute'`) or hour rollup that must be merged into it. */
export interface LateCell extends LabelledCell {
  granularity: 'minute' | 'hour';
  bucket: number;
}

/**
 * The in-memory cache of the rollups: all-time cells per (event type, model) and complete
 * per-minute cells for the retention window. An event older than the window (late, or found at
 * start-up) goes into a "late" delta cell that the writer merges into the stored row. Cells
 * changed since the last write are dirty until the writer persists them.
 */
export class MetricsAggregates {
  private readonly allTime = new Map<string, RollupCell>();
  private readonly minutes = new Map<number, Map<string, RollupCell>>();
  private readonly late = new Map<string, LateCell>();
  private readonly dirty = new Map<string, { bucket: number; key: string; cell: RollupCell }>();
  /** Merged cells of whole hours, built from the minutes on first use; an event in the hour drops it. */
  private readonly hours = new Map<number, LabelledCell[]>();
  /** How many minutes of per-minute cells stay in memory; longer windows read the database. */
  readonly retentionMinutes: number;

  constructor(retentionMinutes = 25 * 60) {
    this.retentionMinutes = retentionMinutes;
  }

  add(sample: EventSample, nowSeconds: number): void {
    const key = cellKey(sample.eventType, sample.modelId);
    this.cellIn(this.allTime, ALL_TIME_BUCKET, key).add(sample);
    const minute = minuteOf(sample.timestamp);
    // Late only when its minute is no longer in memory; a minute still held stays complete.
    // A late event goes straight into a delta for the row that stores it: its minute, or its
    // hour once minutes that old are compacted.
    if (minute < this.oldestRetainedMinute(nowSeconds) && !this.minutes.has(minute)) {
      const hourly = minute < this.compactionThreshold(nowSeconds);
      const bucket = hourly ? Math.floor(minute / 60) : minute;
      const lateKey = `${hourly ? 'h' : 'm'}${bucket}${SEP}${key}`;
      let entry = this.late.get(lateKey);
      if (!entry) {
        entry = { granularity: hourly ? 'hour' : 'minute', bucket, eventType: sample.eventType, modelId: sample.modelId, cell: new RollupCell() };
        this.late.set(lateKey, entry);
      }
      entry.cell.add(sample);
      return;
    }
    let perMinute = this.minutes.get(minute);
    if (!perMinute) {
      perMinute = new Map();
      this.minutes.set(minute, perMinute);
    }
    this.cellIn(perMinute, minute, key).add(sample);
    this.hours.delete(Math.floor(minute / 60));
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

  /** Serialised rows of every complete cell changed since `markClean()`: they replace the stored rows. */
  dirtyRows(): RollupRow[] {
    return [...this.dirty.values()].map(({ bucket, key, cell }) => {
      const { eventType, modelId } = splitKey(key);
      return { bucket, event_type: eventType, model_id: modelId, ...cell.toRow() };
    });
  }

  /** Deltas for stored rows, to be merged into them. */
  lateCells(): LateCell[] {
    return [...this.late.values()];
  }

  /** Minute rows older than this are compacted into hours: an hour boundary an hour past the retention. */
  compactionThreshold(nowSeconds: number): number {
    return Math.floor((this.oldestRetainedMinute(nowSeconds) - 60) / 60) * 60;
  }

  get dirtyCount(): number {
    return this.dirty.size + this.late.size;
  }

  /** After a successful write: nothing is dirty, late deltas are in the database. */
  markClean(): void {
    // Written minutes rarely change again: keep them compact (the current one thaws on its next event).
    for (const { bucket, cell } of this.dirty.values()) if (bucket !== ALL_TIME_BUCKET) cell.freeze();
    this.dirty.clear();
    this.late.clear();
  }

  /** Loads persisted rows (all-time rows and recent minute rows) into memory. */
  load(rows: Iterable<RollupRow>): void {
    this.hours.clear();
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

  /** The first minute held in memory for a clock at `nowSeconds`. */
  oldestRetainedMinute(nowSeconds: number): number {
    return minuteOf(nowSeconds) - this.retentionMinutes;
  }

  /** Drops clean minute cells that fell out of the retention (they remain in the database). */
  prune(nowSeconds: number): void {
    const oldest = this.oldestRetainedMinute(nowSeconds);
    if (this.dirty.size > 0) return;
    for (const minute of this.minutes.keys()) if (minute < oldest) this.minutes.delete(minute);
    for (const hour of this.hours.keys()) if (hour * 60 < oldest) this.hours.delete(hour);
  }

  /** All-time cells, live objects: callers must not mutate them. */
  allTimeCells(): LabelledCell[] {
    return [...this.allTime].map(([key, cell]) => ({ ...splitKey(key), cell }));
  }

  /** Minute cells with `fromMinute <= minute <= toMinute`, in ascending minute order. */
  minuteCells(fromMinute: number, toMinute = Number.POSITIVE_INFINITY): Array<LabelledCell & { minute: number }> {
    const out: Array<LabelledCell & { minute: number }> = [];
    const minutes = [...this.minutes.keys()].filter((m) => m >= fromMinute && m <= toMinute).sort((a, b) => a - b);
    for (const minute of minutes) {
      for (const [key, cell] of this.minutes.get(minute) ?? []) out.push({ minute, ...splitKey(key), cell });
    }
    return out;
  }

  /**
   * Cells covering minutes `fromMinute` up to now, one or more per (event type, model) — merge
   * them with `mergeByLabels`. Whole hours before `nowMinute` come as one merged cell each,
   * cached until an event lands in them, so a 24 h window costs about 24 hour cells plus the
   * minutes at its two edges instead of 1,440 minute cells. The cells must not be mutated.
   */
  cellsSince(fromMinute: number, nowMinute: number): LabelledCell[] {
    const firstHour = Math.ceil(fromMinute / 60);
    const endHour = Math.floor(nowMinute / 60); // the current hour is still filling: minutes
    if (firstHour >= endHour) return this.minuteCells(fromMinute);
    const out: LabelledCell[] = this.minuteCells(fromMinute, firstHour * 60 - 1);
    for (let hour = firstHour; hour < endHour; hour += 1) {
      let merged = this.hours.get(hour);
      if (!merged) {
        merged = mergeByLabels(this.minuteCells(hour * 60, hour * 60 + 59));
        for (const { cell } of merged) cell.freeze();
        this.hours.set(hour, merged);
      }
      out.push(...merged);
    }
    out.push(...this.minuteCells(endHour * 60));
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
