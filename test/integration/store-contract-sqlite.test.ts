/** The store contract (test/store-contract) against the SQLite store, on a file in a temporary folder. */
import { createStore } from "../../src/store/index.ts";
import { runStoreContract } from "../store-contract/store-contract.case.ts";
import { tempDatabase } from "../helpers/temp-dir.ts";

runStoreContract("SQLite", async () => createStore(tempDatabase()));
