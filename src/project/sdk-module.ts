/**
 * Provides `@vilano/runtime` to user code loaded by this process, so projects need no install:
 * a Bun runtime plugin answers the bare import with this build's SDK. (A project that has the
 * package in node_modules works too: definitions are plain objects, never checked by class.)
 */
import * as sdk from "../sdk/index.ts";

let installed = false;

export function installSdkModule(): void {
  if (installed) return;
  installed = true;
  Bun.plugin({
    name: "vilano-sdk",
    setup(build) {
      build.module("@vilano/runtime", () => ({ exports: { ...sdk }, loader: "object" }));
    },
  });
}
