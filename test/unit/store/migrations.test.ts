import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, SCHEMA_VERSION, migrate } from '../../../src/main/store/migrations';
import { MetricsDatabase } from '../../../src/main/store/metricsDatabase';
import { MetricsStore } from '../../../src/main/metrics/metricsStore';
import { seedExampleRows, writeSeedDatabase } from '../../fixtures/seedDatabase';
import { tempDir } from '../../fixtures/tempDir';

const dirs: Array<ReturnType<typeof tempDir>> = [];
const fresh = (): ReturnType<typeof tempDir> => {
  const dir = tempDir();
  dirs.push(dir);
  return dir;
};
afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));

/** The condition migration 3 indexes, as a foreign tool would write it. */
const FAILED_CONDITION =
  "(CASE WHEN json_valid(metadata) THEN (json_extract(metadata, '$.success') IS 0 OR (json_type(metadata, '$.error_type') IS 'text' AND json_extract(metadata, '$.error_type') <> '')) ELSE 0 END)";

const userVersion = (db: Database.Database): number => db.pragma('user_version', { simple: true }) as number;

describe('migration 1: the seed table and our indexes', () => {
  it('creates the seed table exactly on an empty database', () => {
    const db = new Database(':memory:');
    migrate(db, MIGRATIONS.slice(0, 1));
    expect(userVersion(db)).toBe(1);
    const columns = db.prepare('SELECT name, type, "notnull", pk FROM pragma_table_info(\'performance_events\')').all();
    expect(columns).toEqual([
      { name: 'id', type: 'INTEGER', notnull: 0, pk: 1 },
      { name: 'model_id', type: 'TEXT', notnull: 1, pk: 0 },
      { name: 'user_id', type: 'TEXT', notnull: 1, pk: 0 },
      { name: 'event_type', type: 'TEXT', notnull: 1, pk: 0 },
      { name: 'duration', type: 'REAL', notnull: 1, pk: 0 },
      { name: 'timestamp', type: 'REAL', notnull: 1, pk: 0 },
      { name: 'metadata', type: 'TEXT', notnull: 0, pk: 0 },
    ]);
    const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'performance_events' AND name LIKE 'idx_%'").pluck().all();
    expect(indexes).toEqual(expect.arrayContaining(['idx_performance_events_timestamp', 'idx_performance_events_type_id', 'idx_performance_events_model_id']));
  });

  it('keeps every row of a seed-shaped database written by another program', () => {
    const path = fresh().file('seed.db');
    const count = writeSeedDatabase(path);
    const db = new Database(path);
    expect(userVersion(db)).toBe(0);
    migrate(db, MIGRATIONS.slice(0, 1));
    expect(db.prepare('SELECT count(*) FROM performance_events').pluck().get()).toBe(count);
    db.close();
  });
});

describe('migration 2: rollups', () => {
  it('adds the rollup tables to a version-1 database with a zero watermark, keeping its rows', () => {
    const path = fresh().file('v1.db');
    writeSeedDatabase(path);
    const db = new Database(path);
    migrate(db, MIGRATIONS.slice(0, 1));
    migrate(db, MIGRATIONS.slice(0, 2));
    expect(userVersion(db)).toBe(2);
    expect(db.prepare('SELECT last_event_id FROM rollup_watermark').pluck().get()).toBe(0);
    expect(db.prepare('SELECT count(*) FROM metric_rollups').pluck().get()).toBe(0);
    expect(db.prepare('SELECT count(*) FROM performance_events').pluck().get()).toBe(15);
    db.close();
  });
});

describe('migration 3: the failed-events index', () => {
  it('indexes the failed rows of a version-2 database and the errors-only filter uses it', () => {
    const path = fresh().file('v2.db');
    writeSeedDatabase(path, seedExampleRows());
    const raw = new Database(path);
    migrate(raw, MIGRATIONS.slice(0, 2));
    // Rows another program may write: no metadata, metadata that is not JSON, a JSON array.
    const foreign = raw.prepare('INSERT INTO performance_events (model_id, user_id, event_type, duration, timestamp, metadata) VALUES (?, ?, ?, ?, ?, ?)');
    for (const metadata of [null, 'not json', '[1,2]']) foreign.run('other', 'u', 'diffusion_generate', 1, 1_700_000_100, metadata);
    migrate(raw, MIGRATIONS.slice(0, 3));
    expect(userVersion(raw)).toBe(3);
    expect(
      raw
        .prepare('SELECT count(*) FROM performance_events INDEXED BY idx_performance_events_failed_id WHERE ' + FAILED_CONDITION)
        .pluck()
        .get(),
    ).toBe(3);
    raw.close();

    const db = new MetricsDatabase(path);
    const plans = {
      failed_id: { limit: 50, outcome: 'error' as const },
      failed_type_id: { limit: 50, eventType: 'diffusion_infill', outcome: 'error' as const },
      failed_model_id: { limit: 50, modelId: 'dreamon-v0-7b', outcome: 'error' as const, beforeId: 10 },
      failed_type_model_id: { limit: 50, eventType: 'diffusion_generate', modelId: 'dream-v0-instruct-7b', outcome: 'error' as const },
    };
    for (const [index, query] of Object.entries(plans)) {
      expect(db.explainEvents(query).join(' | '), JSON.stringify(query)).toMatch(new RegExp(`USING INDEX idx_performance_events_${index}\\b`));
    }
    expect(db.queryEvents({ limit: 50, outcome: 'error' }).map((row) => row.event_type)).toEqual([
      'diffusion_infill',
      'diffusion_generate',
      'diffusion_generate',
    ]);
    expect(db.queryEvents({ limit: 50, outcome: 'success' })).toHaveLength(15);
    db.close();
  });
});

describe('opening databases', () => {
  it('opens a seed-shaped database and counts its rows in the summary', () => {
    const path = fresh().file('seed.db');
    writeSeedDatabase(path, seedExampleRows());
    const store = MetricsStore.open({ path });
    const summary = store.summary();
    expect(summary.endpoints.generate).toEqual({ requests: 10, errors: 2, success_rate: 80 });
    expect(summary.endpoints.infill).toEqual({ requests: 5, errors: 1, success_rate: 80 });
    expect(store.db.raw().prepare('SELECT last_event_id FROM rollup_watermark').pluck().get()).toBe(15);
    store.close();
  });

  it('folds rows another program appended while we were not running', () => {
    const path = fresh().file('seed.db');
    writeSeedDatabase(path, seedExampleRows());
    MetricsStore.open({ path }).close();
    writeSeedDatabase(path, seedExampleRows().slice(0, 3)); // three more generate successes
    const store = MetricsStore.open({ path });
    expect(store.summary().endpoints.generate).toEqual({ requests: 13, errors: 2, success_rate: (11 / 13) * 100 });
    store.close();
  });

  it('refuses a database newer than the code', () => {
    const path = fresh().file('future.db');
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => new MetricsDatabase(path)).toThrow(/newer than this program understands/);
  });

  it('uses WAL', () => {
    const path = fresh().file('wal.db');
    const db = new MetricsDatabase(path);
    expect(db.raw().pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });
});
