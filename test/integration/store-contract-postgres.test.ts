/**
 * The store contract (test/store-contract) against the PostgreSQL store, a fresh database for each
 * case. It needs VILANO_TEST_DATABASE_URL: scripts/test.sh (and so CI) always starts a server and
 * sets it, and fails when it cannot; by hand without it the file says it skipped.
 */
import { describe, test } from "bun:test";
import { createPostgresStore } from "../../src/store/index.ts";
import { runStoreContract } from "../store-contract/store-contract.case.ts";
import { freshPostgresDatabase, hasPostgres } from "../helpers/postgres.ts";

if (hasPostgres) runStoreContract("PostgreSQL", async () => createPostgresStore(await freshPostgresDatabase()));
else describe("the store contract: PostgreSQL", () => test.skip("needs VILANO_TEST_DATABASE_URL (scripts/test.sh starts a server)", () => {}));
