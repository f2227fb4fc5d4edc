/**
 * Schema migrations. Each entry moves the schema up one version; the version reached is recorded
 * in `meta`, and a database whose version is newer than this code is refused rather than guessed at.
 */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "runs, op journal, event timeline, buffered signals",
    sql: `
      CREATE TABLE runs (
        id           TEXT PRIMARY KEY,
        kind         TEXT NOT NULL,
        name         TEXT NOT NULL,
        status       TEXT NOT NULL,
        input        TEXT,
        output       TEXT,
        error        TEXT,
        parent_id    TEXT,
        lease_fence  INTEGER NOT NULL DEFAULT 0,
        wake_pending INTEGER NOT NULL DEFAULT 0,
        created_at   INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL,
        finished_at  INTEGER
      );
      CREATE INDEX runs_live ON runs(status) WHERE status IN ('pending', 'running', 'waiting');
      CREATE INDEX runs_created ON runs(created_at);

      CREATE TABLE ops (
        run_id      TEXT NOT NULL REFERENCES runs(id),
        op_key      TEXT NOT NULL,
        seq         INTEGER NOT NULL,
        kind        TEXT NOT NULL,
        name        TEXT NOT NULL,
        status      TEXT NOT NULL,
        attempt     INTEGER NOT NULL DEFAULT 1,
        result      TEXT,
        error       TEXT,
        wake_at     INTEGER,
        meta        TEXT,
        updated_at  INTEGER NOT NULL,
        PRIMARY KEY (run_id, op_key)
      ) WITHOUT ROWID;
      CREATE INDEX ops_wake ON ops(wake_at) WHERE wake_at IS NOT NULL;

      CREATE TABLE events (
        run_id  TEXT NOT NULL REFERENCES runs(id),
        seq     INTEGER NOT NULL,
        type    TEXT NOT NULL,
        body    TEXT,
        at      INTEGER NOT NULL,
        PRIMARY KEY (run_id, seq)
      ) WITHOUT ROWID;

      CREATE TABLE signals (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id       TEXT NOT NULL REFERENCES runs(id),
        name         TEXT NOT NULL,
        payload      TEXT,
        status       TEXT NOT NULL,
        consumed_by  TEXT,
        created_at   INTEGER NOT NULL
      );
      CREATE INDEX signals_buffered ON signals(run_id, name, id) WHERE status = 'buffered';
    `,
  },
  {
    version: 2,
    description: "service instances and their inboxes; the order in which op outcomes were delivered",
    sql: `
      ALTER TABLE ops ADD COLUMN resolved_seq INTEGER;
      CREATE INDEX ops_resolved ON ops(run_id, resolved_seq) WHERE resolved_seq IS NOT NULL;
      ALTER TABLE runs ADD COLUMN service_key TEXT;
      ALTER TABLE runs ADD COLUMN key_input TEXT;
      ALTER TABLE runs ADD COLUMN state TEXT;
      CREATE UNIQUE INDEX runs_service_key ON runs(name, service_key) WHERE kind = 'service';
      DROP INDEX runs_live;
      CREATE INDEX runs_live ON runs(status) WHERE status IN ('pending', 'running', 'waiting', 'active');

      CREATE TABLE messages (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        service_run_id TEXT NOT NULL REFERENCES runs(id),
        kind           TEXT NOT NULL,
        name           TEXT NOT NULL,
        payload        TEXT,
        status         TEXT NOT NULL,
        attempt        INTEGER NOT NULL DEFAULT 1,
        sender_run_id  TEXT,
        sender_op_key  TEXT,
        wake_at        INTEGER,
        reply          TEXT,
        error          TEXT,
        created_at     INTEGER NOT NULL,
        updated_at     INTEGER NOT NULL
      );
      CREATE INDEX messages_inbox ON messages(service_run_id, status, id);
      CREATE INDEX messages_wake ON messages(wake_at) WHERE wake_at IS NOT NULL;
      CREATE INDEX messages_outbound ON messages(sender_run_id, status) WHERE sender_run_id IS NOT NULL;
    `,
  },
  {
    version: 3,
    description: "projects; runs pinned to a project snapshot",
    sql: `
      CREATE TABLE projects (
        name          TEXT PRIMARY KEY,
        path          TEXT NOT NULL,
        snapshot_id   TEXT NOT NULL,
        snapshot_dir  TEXT NOT NULL,
        manifest      TEXT NOT NULL,
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL
      );
      ALTER TABLE runs ADD COLUMN project TEXT NOT NULL DEFAULT '';
      ALTER TABLE runs ADD COLUMN snapshot_id TEXT;
      DROP INDEX runs_service_key;
      CREATE UNIQUE INDEX runs_service_key ON runs(project, name, service_key) WHERE kind = 'service';
      CREATE INDEX runs_project ON runs(project, created_at);
    `,
  },
  {
    version: 4,
    description: "worker crashes in a row per run (crash quarantine)",
    sql: `
      ALTER TABLE runs ADD COLUMN crashes INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 5,
    description: "child runs by parent; durable waits on another run's end",
    sql: `
      CREATE INDEX runs_parent ON runs(parent_id, created_at) WHERE parent_id IS NOT NULL;
      CREATE TABLE run_waiters (
        target_id  TEXT NOT NULL,
        waiter_id  TEXT NOT NULL,
        op_key     TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (target_id, waiter_id, op_key)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 6,
    description: "monitors and links between runs, exit events, trapping exits",
    sql: `
      ALTER TABLE runs ADD COLUMN traps_exits INTEGER NOT NULL DEFAULT 0;
      CREATE TABLE relationships (
        target_id  TEXT NOT NULL,
        owner_id   TEXT NOT NULL,
        kind       TEXT NOT NULL,
        propagate  TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (target_id, owner_id, kind)
      ) WITHOUT ROWID;
      CREATE INDEX relationships_owner ON relationships(owner_id);
      CREATE TABLE exit_events (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        owner_id     TEXT NOT NULL,
        target_id    TEXT NOT NULL,
        target_kind  TEXT NOT NULL,
        relationship TEXT NOT NULL,
        status       TEXT NOT NULL,
        output       TEXT,
        error        TEXT,
        at           INTEGER NOT NULL,
        consumed_by  TEXT
      );
      CREATE INDEX exit_events_owner ON exit_events(owner_id, id);
    `,
  },
  {
    version: 7,
    description: "supervision groups and their members",
    sql: `
      CREATE TABLE supervisors (
        owner_id     TEXT NOT NULL,
        group_key    TEXT NOT NULL,
        strategy     TEXT NOT NULL,
        max_restarts INTEGER NOT NULL,
        window_ms    INTEGER NOT NULL,
        on_exhausted TEXT NOT NULL,
        restarts     TEXT NOT NULL DEFAULT '[]',
        exhausted    INTEGER NOT NULL DEFAULT 0,
        created_at   INTEGER NOT NULL,
        PRIMARY KEY (owner_id, group_key)
      ) WITHOUT ROWID;
      CREATE TABLE supervised_members (
        owner_id   TEXT NOT NULL,
        group_key  TEXT NOT NULL,
        member_key TEXT NOT NULL,
        position   INTEGER NOT NULL,
        workflow   TEXT NOT NULL,
        input      TEXT,
        run_id     TEXT NOT NULL,
        restarts   INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (owner_id, group_key, member_key)
      ) WITHOUT ROWID;
      CREATE UNIQUE INDEX supervised_members_run ON supervised_members(run_id);
    `,
  },
  {
    version: 8,
    description: "topic subscriptions of service instances (pubsub)",
    sql: `
      CREATE TABLE subscriptions (
        project        TEXT NOT NULL,
        topic          TEXT NOT NULL,
        service_run_id TEXT NOT NULL,
        handler        TEXT NOT NULL,
        max_queued     INTEGER,
        created_at     INTEGER NOT NULL,
        PRIMARY KEY (project, topic, service_run_id, handler)
      ) WITHOUT ROWID;
      CREATE INDEX subscriptions_instance ON subscriptions(service_run_id);
    `,
  },
  {
    version: 9,
    description: "sleeps apart from other timers (sleeps are prepared ahead of their due time)",
    sql: `
      CREATE INDEX ops_sleep_wake ON ops(wake_at) WHERE wake_at IS NOT NULL AND kind = 'sleep';
      CREATE INDEX ops_other_wake ON ops(wake_at) WHERE wake_at IS NOT NULL AND kind <> 'sleep';
    `,
  },
  {
    version: 10,
    description: "run lists in pages: indexes in list order (created_at, id) by status, workflow and project",
    sql: `
      DROP INDEX runs_created;
      CREATE INDEX runs_created ON runs(created_at, id);
      DROP INDEX runs_project;
      CREATE INDEX runs_project ON runs(project, created_at, id);
      CREATE INDEX runs_status_created ON runs(status, created_at, id);
      CREATE INDEX runs_name_created ON runs(name, created_at, id);
    `,
  },
  {
    version: 11,
    description: "service instances listed in pages (the dashboard's services page): runs by kind in list order",
    sql: `
      CREATE INDEX runs_kind_created ON runs(kind, created_at, id);
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
