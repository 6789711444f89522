import type { Database } from 'better-sqlite3';
import { failureOf, parseMetadata } from '../../shared/events';

/**
 * Numbered, append-only schema migrations. Migration N moves `PRAGMA user_version` from N-1 to N.
 * Never edit a released migration: append a new one.
 */
export type Migration = (db: Database) => void;

export const MIGRATIONS: readonly Migration[] = [
  // 1: the seed's table, exactly, plus the indexes our queries use. IF NOT EXISTS keeps a
  // seed-shaped database written by another program (user_version 0) with all its rows.
  (db) => {
    db.exec(`
      CREATE TABLE IF NOT EXISTS performance_events (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          model_id TEXT NOT NULL,
          user_id TEXT NOT NULL,
          event_type TEXT NOT NULL,
          duration REAL NOT NULL,
          timestamp REAL NOT NULL,
          metadata TEXT
      );
      CREATE INDEX IF NOT EXISTS idx_performance_events_timestamp ON performance_events (timestamp);
      CREATE INDEX IF NOT EXISTS idx_performance_events_type_id ON performance_events (event_type, id);
      CREATE INDEX IF NOT EXISTS idx_performance_events_model_id ON performance_events (model_id, id);
    `);
  },
  // 2: persisted aggregates ("rollups") per minute and for all time, so start-up, the summary
  // and the exports never rescan the events. Minute rows older than about a day are compacted
  // into hour rows. `rollup_watermark` is the last event id folded in; rows beyond it (for
  // example written by another program) are folded in at the next start.
  (db) => {
    db.exec(`
      CREATE TABLE metric_rollups (
          bucket INTEGER NOT NULL,
          event_type TEXT NOT NULL,
          model_id TEXT NOT NULL,
          data TEXT NOT NULL,
          PRIMARY KEY (bucket, event_type, model_id)
      ) WITHOUT ROWID;
      CREATE TABLE metric_rollups_hourly (
          hour INTEGER NOT NULL,
          event_type TEXT NOT NULL,
          model_id TEXT NOT NULL,
          data TEXT NOT NULL,
          PRIMARY KEY (hour, event_type, model_id)
      ) WITHOUT ROWID;
      CREATE TABLE rollup_watermark (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          last_event_id INTEGER NOT NULL
      );
      INSERT INTO rollup_watermark (id, last_event_id) VALUES (1, 0);
    `);
  },
  // 3: the ids of failed events, for the Events view's "errors only" filter. The outcome lives in
  // the metadata JSON, so filtering on it scans the table; a few percent of events fail, so a side
  // table of their ids (with the filter columns) keeps that filter a short index walk and costs
  // the writer nothing for successful events (partial indexes on the JSON cost every insert ~20 %).
  // Existing rows are judged by the one rule every reader uses (`failureOf`).
  (db) => {
    db.exec(`
      CREATE TABLE failed_events (
          id INTEGER PRIMARY KEY,
          event_type TEXT NOT NULL,
          model_id TEXT NOT NULL
      );
      CREATE INDEX idx_failed_events_type_id ON failed_events (event_type, id);
      CREATE INDEX idx_failed_events_model_id ON failed_events (model_id, id);
      CREATE INDEX idx_failed_events_type_model_id ON failed_events (event_type, model_id, id);
    `);
    const insert = db.prepare('INSERT INTO failed_events (id, event_type, model_id) VALUES (?, ?, ?)');
    const page = db.prepare('SELECT id, event_type, model_id, metadata FROM performance_events WHERE id > ? ORDER BY id LIMIT 5000');
    // Read in pages (a connection cannot write while it iterates), so memory stays bounded.
    for (let after = 0; ;) {
      const rows = page.all(after) as Array<{ id: number; event_type: string; model_id: string; metadata: string | null }>;
      for (const row of rows) if (failureOf(parseMetadata(row.metadata)) !== null) insert.run(row.id, row.event_type, row.model_id);
      const last = rows.at(-1);
      if (!last) break;
      after = last.id;
    }
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Applies every migration the database lacks, each in its own transaction. */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new Error(
      `metrics database schema version ${current} is newer than this program understands (${migrations.length}); ` +
        'upgrade Diffusion Monitor or use another --db',
    );
  }
  for (let version = current; version < migrations.length; version += 1) {
    const step = migrations[version];
    if (!step) continue;
    db.transaction(() => {
      step(db);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
