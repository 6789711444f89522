import type { Database } from 'better-sqlite3';

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
  // 3: failed events, for the Events view's "errors only" filter. Failures are a few percent of
  // the rows and the outcome lives in the metadata JSON, so without these the filter scans the
  // table. One small partial index per filter combination, each in id order like the others.
  // The WHERE must stay word for word the one `queryEvents` uses (SQLite only picks a partial
  // index whose condition the query repeats; a test checks the plans).
  (db) => {
    // Failed = `success` false (or 0) or a non-empty `error_type`, as `sampleFromRow` reads it; rows
    // with no or unreadable metadata (other programs may write them) are successes, never an error.
    const failed =
      "(CASE WHEN json_valid(metadata) THEN (json_extract(metadata, '$.success') IS 0 OR (json_type(metadata, '$.error_type') IS 'text' AND json_extract(metadata, '$.error_type') <> '')) ELSE 0 END)";
    db.exec(`
      CREATE INDEX IF NOT EXISTS idx_performance_events_failed_id ON performance_events (id) WHERE ${failed};
      CREATE INDEX IF NOT EXISTS idx_performance_events_failed_type_id ON performance_events (event_type, id) WHERE ${failed};
      CREATE INDEX IF NOT EXISTS idx_performance_events_failed_model_id ON performance_events (model_id, id) WHERE ${failed};
      CREATE INDEX IF NOT EXISTS idx_performance_events_failed_type_model_id ON performance_events (event_type, model_id, id) WHERE ${failed};
    `);
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
