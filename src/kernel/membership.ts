/**
 * A kernel among several daemons sharing one database (PostgreSQL). The store serializes their
 * batches; this module keeps the daemons in step around them:
 * - each batch tells the others, on commit, which runs it touched or ended, which external asks it
 *   finished, and whether it left runs pending (a NOTIFY inside the transaction);
 * - a heartbeat renews this daemon's leases, and finds the daemons that stopped beating (or whose
 *   process on this machine is gone): their runs are taken over (`recover` in a batch);
 * - runs pending with no daemon on them are claimed by whichever daemon has room, with
 *   `FOR UPDATE SKIP LOCKED`, so two daemons never claim the same run and never wait for each other.
 * - every few heartbeats, a look at what no notice may have told: runs no member holds, and this
 *   daemon's own claims and leases that nothing here runs.
 * The heartbeat is the only timer; claims follow notices and free slots.
 */
import type { Logger } from "../shared/index.ts";
import type { Cluster, ClusterNotice, DeadMember, RunRow, StoreOps } from "../store/index.ts";
import type { Executor } from "./executor.ts";

export interface MembershipDeps {
  cluster: Cluster;
  reads: StoreOps;
  executor: () => Executor | null;
  logger?: Logger;
  leaseTtlMs: number;
  /** Another daemon's commit touched these runs (the change feed tells local listeners). */
  touched(runIds: readonly string[]): void;
  /** Another daemon ended this run, or finished this external ask: local waiters may be waiting. */
  ended(runId: string): Promise<void>;
  /** Another daemon undid the run's lease without ending it: an activation of it here holding an older lease stops. */
  aborted(runId: string): Promise<void>;
  messageDone(messageId: number): Promise<void>;
  /** Runs a recovery batch for the runs of `dead` and of daemons that left; then looks at timers and waiters again. */
  takeOver(dead: readonly DeadMember[]): Promise<void>;
  /** Notices may have been missed (the listening connection was lost): waiters look at the database again. */
  resync(): Promise<void>;
  /** This daemon was counted dead and its runs taken over: what it still runs goes again. */
  lostMembership(): void;
  /** Runs leased here under `fence` with nothing running them: they go again. */
  idleLeases(leases: readonly { id: string; fence: number }[]): Promise<void>;
}

export interface Membership {
  /** Inside a command: what the open batch did, for the notice it sends on commit. */
  noteTouched(runId: string): void;
  noteEnded(runId: string): void;
  noteAborted(runId: string): void;
  noteMessageDone(messageId: number): void;
  notePending(): void;
  /** Last inside the batch's transaction: sends the batch's notice (delivered on commit only). */
  announce(): Promise<void>;
  /** Listens to the others and starts the heartbeat. */
  start(): Promise<void>;
  /** Pending runs may be waiting for a daemon (recovery just released some): claim what fits. */
  claimPending(): void;
  lookForWork(): void;
  cannotRun(run: RunRow): void;
  stop(): void;
}

/** A run this daemon could not load the code of is left to the others this long (then it tries again). */
const UNRUNNABLE_FOR_MS = 60_000;
/** How often (in heartbeats) a daemon looks for runs no notice told it about. */
const STRAYS_EVERY_BEATS = 5;

export function createMembership(deps: MembershipDeps): Membership {
  const { cluster, reads, leaseTtlMs } = deps;
  const log = deps.logger?.withTag("cluster");
  const heartbeatMs = Math.max(50, Math.min(1_000, Math.floor(leaseTtlMs / 4)));
  let outgoing = { touched: new Set<string>(), ended: new Set<string>(), aborted: new Set<string>(), messages: new Set<number>(), pending: false };
  let stopped = false;
  let heartbeat: ReturnType<typeof setTimeout> | null = null;
  /** Bumped by every hint that pending runs may exist; a claim that found fewer than it asked for clears it only if unchanged. */
  let pendingHints = 1;
  let clearedAt = 0;
  let claiming = false;
  let takingOver = false;
  /** Runs this daemon gave back because it cannot run them, and when: it does not claim them again for a while. */
  const unrunnable = new Map<string, number>();
  let takeOverAgain: readonly DeadMember[] | null = null;
  let beats = 0;
  /** Leases held here with nothing running them at the last look, by run id (their fences). */
  let idleAtLastLook = new Map<string, number>();
  let releasingIdle = false;

  const stillUnrunnable = () => {
    const now = Date.now();
    for (const [id, at] of unrunnable) if (now - at > UNRUNNABLE_FOR_MS) unrunnable.delete(id);
    return [...unrunnable.keys()];
  };

  async function claimWork(): Promise<void> {
    const executor = deps.executor();
    if (stopped || claiming || !executor || pendingHints === clearedAt) return;
    const room = executor.room();
    if (room <= 0) return;
    claiming = true;
    const hints = pendingHints;
    try {
      const ids = await cluster.claimPending(room, stillUnrunnable());
      if (ids.length < room) clearedAt = hints;
      await dispatchClaimed(ids);
    } catch (error) {
      if (!stopped) log?.warn("could not claim pending runs:", error);
    } finally {
      claiming = false;
    }
    // A hint that came while this claim ran is looked at now.
    if (pendingHints !== clearedAt && pendingHints !== hints) void claimWork();
  }

  /** Hands claimed runs to the executor; those it could not be given go back to everyone. */
  async function dispatchClaimed(ids: readonly string[]): Promise<void> {
    const executor = deps.executor();
    for (let i = 0; i < ids.length; i++) {
      try {
        const run = await reads.getRun(ids[i]!);
        if (run && executor) executor.dispatch(run);
      } catch (error) {
        for (const id of ids.slice(i)) await cluster.unclaim(id).catch(() => {});
        throw error;
      }
    }
  }

  /** One takeover at a time; one asked for meanwhile runs right after (with every member found dead by then). */
  async function takeOver(dead: readonly DeadMember[]): Promise<void> {
    if (stopped) return;
    if (takingOver) {
      takeOverAgain = [...(takeOverAgain ?? []), ...dead];
      return;
    }
    takingOver = true;
    try {
      let next: readonly DeadMember[] | null = dead;
      while (next !== null && !stopped) {
        takeOverAgain = null;
        await deps.takeOver(next);
        next = takeOverAgain;
      }
      pendingHints++;
      await claimWork();
    } catch (error) {
      // The next heartbeat finds the dead members (or the runs nobody holds) again.
      if (!stopped) log?.warn("could not take over the runs of stopped daemons:", error);
    } finally {
      takingOver = false;
    }
  }

  async function beat(): Promise<void> {
    heartbeat = null;
    if (stopped) return;
    try {
      if (!(await cluster.heartbeat())) {
        log?.error(
          `this daemon was silent longer than the lease time to live (${leaseTtlMs} ms): the others took its runs over; it has joined again, and what it still ran goes again`,
        );
        deps.lostMembership();
      }
      const dead = await cluster.deadMembers(leaseTtlMs);
      if (dead.length > 0) {
        log?.warn(`daemon(s) ${dead.map((d) => d.id).join(", ")} stopped answering; taking their runs over`);
        void takeOver(dead);
      }
      // Now and then, what no notice may have told: runs no member holds (a daemon that left while
      // a takeover ran), and runs this daemon claimed but never got to its executor.
      if (++beats % STRAYS_EVERY_BEATS === 0) {
        const strays = await cluster.strays();
        if (strays.orphaned) void takeOver([]);
        const executor = deps.executor();
        const lost = strays.claimed.filter((id) => !executor?.holds(id));
        if (lost.length > 0) await dispatchClaimed(lost);
        // A lease of this daemon's that nothing here runs, at two looks in a row under the same
        // fence (a lease just taken has its activation handed over right after its commit): it
        // goes again, whatever left it so.
        const idle = strays.leased.filter((l) => !executor?.holds(l.id));
        const stuck = idle.filter((l) => idleAtLastLook.get(l.id) === l.fence);
        idleAtLastLook = new Map(idle.map((l) => [l.id, l.fence]));
        if (stuck.length > 0 && !releasingIdle) {
          log?.warn(`run(s) ${stuck.map((l) => l.id).join(", ")} leased here with nothing running them; they go again`);
          // Not waited for: the heartbeat must not wait for the writer.
          releasingIdle = true;
          void deps
            .idleLeases(stuck)
            .catch((error: unknown) => log?.warn("could not put idle leases right:", error))
            .finally(() => (releasingIdle = false));
        }
      }
    } catch (error) {
      // The store says when the database goes away and comes back: not again every beat meanwhile.
      if (!stopped && (error as { code?: unknown })?.code !== "database_unavailable") log?.warn("heartbeat failed:", error);
    } finally {
      if (!stopped) heartbeat = setTimeout(() => void beat(), heartbeatMs);
    }
  }

  function heard(notice: ClusterNotice): void {
    if (stopped) return;
    if (notice.touched && notice.touched.length > 0) deps.touched(notice.touched);
    for (const runId of notice.ended ?? []) void deps.ended(runId).catch((error: unknown) => log?.warn(`could not read run ${runId} ended by ${notice.from}:`, error));
    for (const runId of notice.aborted ?? []) void deps.aborted(runId).catch((error: unknown) => log?.warn(`could not read run ${runId} aborted by ${notice.from}:`, error));
    for (const id of notice.messages ?? []) void deps.messageDone(id).catch((error: unknown) => log?.warn(`could not read message ${id}:`, error));
    if (notice.pending) {
      pendingHints++;
      void claimWork();
    }
    if (notice.left) void takeOver([]);
  }

  return {
    noteTouched: (runId) => void outgoing.touched.add(runId),
    noteEnded: (runId) => void outgoing.ended.add(runId),
    noteAborted: (runId) => void outgoing.aborted.add(runId),
    noteMessageDone: (messageId) => void outgoing.messages.add(messageId),
    notePending: () => void (outgoing.pending = true),
    async announce() {
      const { touched, ended, aborted, messages, pending } = outgoing;
      outgoing = { touched: new Set(), ended: new Set(), aborted: new Set(), messages: new Set(), pending: false };
      if (touched.size === 0 && ended.size === 0 && aborted.size === 0 && messages.size === 0 && !pending) return;
      const notice: Omit<ClusterNotice, "from"> = {};
      if (touched.size > 0) notice.touched = [...touched];
      if (ended.size > 0) notice.ended = [...ended];
      if (aborted.size > 0) notice.aborted = [...aborted];
      if (messages.size > 0) notice.messages = [...messages];
      if (pending) notice.pending = true;
      await cluster.announce(notice);
    },
    async start() {
      await cluster.listen(heard, () => {
        log?.warn("the connection hearing the other daemons was lost and made again; looking at the database for what was missed");
        void deps.resync().catch((error: unknown) => log?.warn("could not look again after a lost notice connection:", error));
        pendingHints++;
        void claimWork();
        void takeOver([]);
      });
      heartbeat = setTimeout(() => void beat(), heartbeatMs);
    },
    claimPending() {
      pendingHints++;
      void claimWork();
    },
    lookForWork: () => void claimWork(),
    cannotRun(run) {
      unrunnable.set(run.id, Date.now());
      if (run.owner === cluster.daemonId) void cluster.unclaim(run.id).catch((error: unknown) => log?.warn(`could not give back run ${run.id}:`, error));
    },
    stop() {
      stopped = true;
      if (heartbeat !== null) clearTimeout(heartbeat);
      heartbeat = null;
    },
  };
}
