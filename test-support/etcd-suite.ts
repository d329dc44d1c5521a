// One real etcd per test file (see etcd.ts): started before the file's tests, stopped after them. Where etcd
// is not installed the file's etcd tests are skipped (`hasEtcd`), except in CI, which must have it.
import { afterAll, beforeAll } from "vitest";
import { hasEtcd, startEtcd, type EtcdServer } from "./etcd.js";

export { hasEtcd };

/** Registers this file's etcd; its `endpoint` is readable from the first test on. */
export function etcdForThisFile(): { readonly endpoint: string } {
  if (!hasEtcd && process.env.CI) throw new Error("CI needs etcd for the cluster tests (apt-get install etcd-server)");
  let server: EtcdServer | undefined;
  beforeAll(async () => {
    if (hasEtcd) server = await startEtcd();
  });
  afterAll(async () => {
    await server?.stop();
  });
  return {
    get endpoint(): string {
      if (server === undefined) throw new Error("etcd is not running (is it installed?)");
      return server.endpoint;
    },
  };
}
