/** Which store a database names: a `postgres://` (or `postgresql://`) URL is PostgreSQL; anything else is a SQLite file (or `:memory:`). */
import type { Store } from "./boundary.ts";
import { createPostgresStore } from "./postgres/pg-store.ts";
import { createStore } from "./sqlite-store.ts";
import type { StoreOptions } from "./store.ts";

export const isPostgresUrl = (database: string): boolean => /^postgres(ql)?:\/\//i.test(database);

export async function openStore(database: string, options: StoreOptions = {}): Promise<Store> {
  return isPostgresUrl(database) ? createPostgresStore(database) : createStore(database, options);
}
