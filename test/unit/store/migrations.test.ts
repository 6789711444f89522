import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, SCHEMA_VERSION, migrate } from '../../../src/main/store/migrations';
import { SqliteMetricsFile } from '../../../src/main/store/sqliteMetricsFile';
import { sampleFromRow } from '../../../src/main/metrics/eventSample';
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

describe('migration 3: failed events', () => {
  /** Metadata as other programs may write it, and whether `sampleFromRow` counts it as failed. */
  const FOREIGN: Array<[string | null, boolean]> = [
    [null, false],
    ['not json', false],
    ['[1,2]', false],
    ['{"success": false}', true],
    ['{"success": 0}', true],
    ['{"success": true, "error_type": "timeout"}', true],
    ['{"error_type": ""}', false],
    ['{"error_type": null}', false],
    ['{"success": true}', false],
  ];

  it('lists the failed rows of a version-2 database, reading metadata as sampleFromRow does', () => {
    const path = fresh().file('v2.db');
    writeSeedDatabase(path, seedExampleRows());
    const raw = new Database(path);
    migrate(raw, MIGRATIONS.slice(0, 2));
    const insert = raw.prepare('INSERT INTO performance_events (model_id, user_id, event_type, duration, timestamp, metadata) VALUES (?, ?, ?, ?, ?, ?)');
    const foreignIds = FOREIGN.map(([metadata]) => Number(insert.run('other', 'u', 'diffusion_generate', 1, 1_700_000_100, metadata).lastInsertRowid));
    migrate(raw, MIGRATIONS.slice(0, 3));
    expect(userVersion(raw)).toBe(3);
    const failed = new Set(raw.prepare('SELECT id FROM failed_events').pluck().all() as number[]);
    FOREIGN.forEach(([metadata, isFailed], i) => {
      expect(failed.has(foreignIds[i] as number), String(metadata)).toBe(isFailed);
      expect(sampleFromRow({ event_type: 'x', model_id: 'y', duration: 1, timestamp: 1, metadata }).success, String(metadata)).toBe(!isFailed);
    });
    expect(failed.size).toBe(3 + FOREIGN.filter(([, isFailed]) => isFailed).length); // the seed's three errors
    raw.close();
  });
});

describe('the events filter', () => {
  it('pages errors and successes by type and model, written, folded and migrated alike', () => {
    const path = fresh().file('filter.db');
    writeSeedDatabase(path, seedExampleRows()); // folded at open: 3 errors among 15
    const store = MetricsStore.open({ path, flushIntervalMs: 1 });
    for (let i = 0; i < 30; i += 1) {
      store.record({
        endpoint: i % 2 === 0 ? 'generate' : 'infill',
        modelId: i % 3 === 0 ? 'llada' : 'dream',
        userId: 'u',
        startedAt: 1_700_001_000 + i,
        duration: 1,
        requestId: `r${i}`,
        status: i % 5 === 0 ? 502 : 200,
        ...(i % 5 === 0 ? { errorType: 'backend' as const } : {}),
        params: {},
        outputText: 'some output text',
      });
    }
    store.flush();
    const all = store.events({ limit: 500 });
    const failedOf = (e: (typeof all)[number]): boolean => e.metadata.success === false || typeof e.metadata.error_type === 'string';
    for (const query of [{}, { eventType: 'diffusion_infill' }, { modelId: 'llada' }, { eventType: 'diffusion_generate', modelId: 'llada' }]) {
      const matching = all.filter((e) => (query.eventType ?? e.event_type) === e.event_type && (query.modelId ?? e.model_id) === e.model_id);
      for (const outcome of ['error', 'success'] as const) {
        const expected = matching.filter((e) => failedOf(e) === (outcome === 'error')).map((e) => e.id);
        // Two events per page, following nextBefore, to cover keyset paging too.
        const got: number[] = [];
        let before: number | undefined;
        for (;;) {
          const page = store.events({ limit: 2, outcome, ...query, ...(before === undefined ? {} : { beforeId: before }) });
          got.push(...page.map((e) => e.id));
          if (page.length < 2) break;
          before = page[page.length - 1]?.id;
        }
        expect(got, `${outcome} ${JSON.stringify(query)}`).toEqual(expected);
      }
    }
    expect(all.filter(failedOf)).toHaveLength(3 + 6);
    store.close();
  });

  it('walks failed_events for errors only, never the whole table', () => {
    const db = new SqliteMetricsFile(fresh().file('plan.db'));
    for (const query of [{ eventType: 'diffusion_infill' }, { modelId: 'dream' }, { eventType: 'diffusion_generate', modelId: 'dream' }, {}]) {
      const plan = db.explainEvents({ limit: 50, outcome: 'error', ...query });
      expect(plan[0], JSON.stringify(query)).toMatch(/^(SEARCH|SCAN) f\b/);
      expect(plan.join(' | ')).toContain('SEARCH p USING INTEGER PRIMARY KEY');
    }
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
    store.close();
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT last_event_id FROM rollup_watermark').pluck().get()).toBe(15);
    db.close();
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
    expect(() => new SqliteMetricsFile(path)).toThrow(/newer than this program understands/);
  });

  it('uses WAL', () => {
    const path = fresh().file('wal.db');
    const db = new SqliteMetricsFile(path);
    expect(db.raw().pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });
});
