/**
 * What the control API needs from the daemon, as an interface the runtime implements (the API
 * layer sits below the runtime and must not import it).
 */
import type { SignalDelivery } from "../kernel/index.ts";
import type { AnyRunStatus, DaemonInfo, RunInfo, RunInspection, RunKind } from "../shared/index.ts";

export interface ApiProject {
  name: string;
  path: string;
  snapshotId: string;
  workflows: string[];
  services: string[];
  createdAt: number;
  updatedAt: number;
}

/** One of a project's snapshots: new runs start on the current one; the others keep the runs pinned to them. */
export interface ApiSnapshot {
  id: string;
  createdAt: number;
  current: boolean;
  /** Runs pinned to it that have not finished. */
  liveRuns: number;
  /** Its definitions, from its own manifest (absent when the manifest cannot be read). */
  workflows?: string[];
  services?: string[];
}

/** A project with its snapshots, the current one first and then newest first (what `GET /v1/projects/:name` answers). */
export interface ApiProjectDetails extends ApiProject {
  snapshots: ApiSnapshot[];
}

/** A run as the API sends it: the view model shared with inspect and the CLI. */
export type ApiRun = RunInfo;

export interface ApiStatus {
  /** How many projects are added (null when the database did not answer). */
  projects: number | null;
  /**
   * The database the daemon uses (a PostgreSQL URL without its password); whether it answers (when
   * not: why, and on PostgreSQL when the daemon tries again); on PostgreSQL, every daemon sharing it.
   */
  store: {
    kind: "sqlite" | "postgres";
    location: string;
    available: boolean;
    unavailable?: { message: string; since?: string; retryAfterSeconds?: number };
    daemons?: DaemonInfo[];
  };
  /** The worker processes running user code, and what the pool has had to do so far. */
  workers: { pids: number[]; external: number[]; stats: { spawned: number; hardStops: number; crashes: number; expired: number; cancelKills: number; spares: number; evacuations: number } };
}

/** The daemon's end of an external worker's connection. */
export interface WorkerConnection {
  receive(text: string): void;
  closed(): void;
}

export interface ApiBackend {
  status(): Promise<ApiStatus>;
  /** An external worker (`vilano worker start`) connected; `link` sends to it and closes it. */
  connectWorker(link: { send(text: string): void; close(): void }): WorkerConnection;
  addProject(path: string, name: string): Promise<ApiProject>;
  syncProject(name: string): Promise<ApiProject>;
  listProjects(): Promise<ApiProject[]>;
  getProject(name: string): Promise<ApiProjectDetails>;
  removeProject(name: string): Promise<void>;
  startRun(target: string, input: unknown, id?: string): Promise<ApiRun & { created: boolean }>;
  /** A page of runs, newest first; `nextCursor` when there may be more. */
  listRuns(filter: { project?: string; status?: AnyRunStatus; workflow?: string; kind?: RunKind; limit?: number; cursor?: string }): Promise<{ runs: ApiRun[]; nextCursor?: string }>;
  inspectRun(runId: string): Promise<RunInspection>;
  /** Waits up to `waitMs` for the run to finish; returns it as it is then. */
  awaitRun(runId: string, waitMs: number): Promise<ApiRun>;
  cancelRun(runId: string, reason?: string): Promise<ApiRun>;
  /** Events after `afterSeq`, and whether the run has finished (no more events will come). */
  runEvents(runId: string, afterSeq: number): Promise<{ events: { seq: number; type: string; at: number }[]; finished: boolean }>;
  signalRun(runId: string, name: string, payload: unknown): Promise<SignalDelivery>;
  /** A one-time code that opens a dashboard session (`vilano ui`). */
  issueLoginCode(): { code: string; expiresAt: number };
  /** Hears, after each commit, which runs got new events (the kernel's change feed); returns the way to stop. */
  watchChanges(listener: (runIds: ReadonlySet<string>) => void): () => void;
  /** How many commits have touched runs so far (read before what a page shows; a stream catches up from it). */
  changeVersion(): number;
  /** Hears the output of the run's `ctx.exec` subprocesses as it comes (not part of the timeline); returns the way to stop. */
  watchOutput(runId: string, listener: (output: { opKey: string; attempt: number; stream: "stdout" | "stderr"; text: string; at: number }) => void): () => void;
  /**
   * Sends, signals or asks an instance addressed by key (it must exist) or key input (created);
   * given both, the key input addresses it and the key must be the one it gives.
   */
  callService(
    target: string,
    address: { key?: string; keyInput?: unknown },
    call: { kind: "send" | "signal" | "ask"; handler: string; payload: unknown; timeout?: string | number },
  ): Promise<{ serviceRunId: string; reply?: unknown }>;
  stopService(target: string, key: string, reason?: string): Promise<ApiRun>;
  /** Creates or gets the instance of `<project>/<service>` for a key input; `expectedKey`, when given, must be the key it gives. */
  ensureService(target: string, keyInput: unknown, expectedKey?: string): Promise<ApiRun & { created: boolean }>;
}
