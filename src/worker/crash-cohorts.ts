/**
 * Where suspects run after a crash (or a hard stop) that could not be attributed: in cohorts, each
 * on a worker of its own that runs nothing else. The runs a dead worker held are split in two
 * halves; a cohort whose worker dies again with several runs on it is split again, so the guilty
 * run is alone after about log2(n) crashes, and a crash of a worker holding only its run is charged
 * to it. Innocent runs are never alone with a crash they did not cause, and the processes started
 * stay few: two per split, not one per suspect — after an out-of-memory kill, a process per run
 * could kill again. A run leaves its cohort when one of its activations ends normally (it is not
 * the one) or the run ends. Runs that move to another daemon (PostgreSQL) are never heard of again
 * here, so the runs kept are bounded: past the bound the longest-suspected are forgotten (at worst
 * such a run shares a worker again, and the next crash or block isolates it anew).
 */

export interface Cohort<W> {
  readonly runs: Set<string>;
  /** The worker its runs go to while it is alive; a new one is started when it is not. */
  worker: W | null;
}

export interface Cohorts<W> {
  /** The cohort a run belongs to, if it is suspected or charged. */
  of(runId: string): Cohort<W> | undefined;
  /**
   * Puts runs under suspicion: two cohorts of halves (one for a single run), each leaving whatever
   * cohort it was in. The order is kept, so a split is predictable.
   */
  isolate(runIds: readonly string[]): Cohort<W>[];
  /** The run is cleared (an activation of it ended normally) or gone. */
  release(runId: string): void;
  /** How many runs are in cohorts now. */
  readonly size: number;
}

export function createCohorts<W>(maxRuns = Number.POSITIVE_INFINITY): Cohorts<W> {
  const byRun = new Map<string, Cohort<W>>();
  const release = (runId: string) => {
    byRun.get(runId)?.runs.delete(runId);
    byRun.delete(runId);
  };
  const join = (runIds: readonly string[]): Cohort<W> => {
    const cohort: Cohort<W> = { runs: new Set(), worker: null };
    for (const runId of runIds) {
      release(runId);
      byRun.set(runId, cohort);
      cohort.runs.add(runId);
    }
    while (byRun.size > maxRuns) release(byRun.keys().next().value!);
    return cohort;
  };
  return {
    of: (runId) => byRun.get(runId),
    isolate(runIds) {
      const unique = [...new Set(runIds)];
      if (unique.length === 0) return [];
      if (unique.length === 1) return [join(unique)];
      const half = Math.ceil(unique.length / 2);
      return [join(unique.slice(0, half)), join(unique.slice(half))];
    },
    release,
    get size() {
      return byRun.size;
    },
  };
}
