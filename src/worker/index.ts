/** The managed worker pool (daemon side), worker mode (child side), and registration in a worker. */
export { createWorkerPool, type WorkerPool, type WorkerPoolOptions, type PoolStats, type Isolation } from "./pool.ts";
export { describeCode, type DescribeOptions } from "./describe.ts";
export { isSameExecGroup, mayEndExecGroup, type ExecGroup } from "./exec-groups.ts";
export { workerEnvironment } from "./environment.ts";
export { resolveWorkerUser, type WorkerUser } from "./worker-user.ts";
export { WORKER_MODE_ARG } from "./worker-command.ts";
export { runExternalWorker, type ExternalWorkerOptions } from "./external-main.ts";
