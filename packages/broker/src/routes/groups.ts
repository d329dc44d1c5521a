import { Hono, type Context } from "hono";
import { CommitBody, GroupParams, HeartbeatBody, JoinBody, MemberFetchQuery, MemberParams } from "@minikafka/protocol";
import { sendJsonBytes } from "../body-pool.js";
import type { BrokerContext } from "../context.js";
import { parsePositions, type CommittedRead } from "../core/committed-reader.js";
import { JsonBytes, estimateRecordsJson, writeRecordsJson, type Encoding } from "../encoding.js";
import { jsonBody, params, query } from "../validate.js";

/** `/v1/groups`: join, heartbeat, leave, fetch from committed offsets, commit, list, describe with lag, delete. */
export function groupRoutes(ctx: BrokerContext): Hono {
  const { groups } = ctx.core;
  const { access, quotas } = ctx;
  // A member acts for its group and reads its subscribed topics: the principal must be allowed both.
  const checkMember = (c: Context, group: string, member: string) => {
    access.check(c, "group", group, "read");
    const principal = access.principal(c);
    if (principal === undefined || principal.unrestricted) return;
    for (const topic of ctx.coordinator.describeMember(group, member).topics) access.check(c, "topic", topic, "read");
  };
  return new Hono()
    .post("/v1/groups/:group/members", params(GroupParams), jsonBody(JoinBody), (c) => {
      const { topics, instanceId, sessionTimeoutMs } = c.req.valid("json");
      const { group } = c.req.valid("param");
      access.check(c, "group", group, "read");
      for (const topic of topics) access.check(c, "topic", topic, "read");
      return c.json(groups.join(group, { topics, instanceId, sessionTimeoutMs }), 201);
    })
    .post("/v1/groups/:group/members/:member/heartbeat", params(MemberParams), jsonBody(HeartbeatBody), (c) => {
      const { group, member } = c.req.valid("param");
      checkMember(c, group, member);
      return c.json(groups.heartbeat(group, member, c.req.valid("json")));
    })
    .delete("/v1/groups/:group/members/:member", params(MemberParams), (c) => {
      const { group, member } = c.req.valid("param");
      access.check(c, "group", group, "read");
      groups.leave(group, member);
      return c.body(null, 204);
    })
    .get("/v1/groups/:group/members/:member/records", params(MemberParams), query(MemberFetchQuery), async (c) => {
      const { group, member } = c.req.valid("param");
      checkMember(c, group, member);
      const { maxRecords, maxBytes, waitMs, encoding = "utf8", positions } = c.req.valid("query");
      quotas.admit(c, "fetch");
      const release = waitMs !== undefined && waitMs > 0 ? quotas.holdLongPoll(c) : undefined;
      let reads: Awaited<ReturnType<typeof groups.memberFetch>>;
      try {
        reads = await groups.memberFetch(group, member, {
          maxRecords,
          maxBytes,
          waitMs,
          positions: parsePositions(positions),
          signal: c.req.raw.signal,
        });
      } finally {
        release?.();
      }
      const body = memberRecordsJson(ctx, reads, encoding, (bytes) => quotas.charge(c, "fetch", bytes));
      return sendJsonBytes(c, ctx.bodies, body);
    })
    .post("/v1/groups/:group/offsets", params(GroupParams), jsonBody(CommitBody), async (c) => {
      const { group } = c.req.valid("param");
      const commit = c.req.valid("json");
      access.check(c, "group", group, "read");
      for (const { topic } of commit.offsets) access.check(c, "topic", topic, "read");
      await groups.commitOffsets(group, commit);
      return c.body(null, 204);
    })
    .get("/v1/groups", (c) => c.json({ groups: access.filter(c, "group", groups.list(), (g) => g.groupId) }))
    .get("/v1/groups/:group", params(GroupParams), async (c) => {
      const { group } = c.req.valid("param");
      access.check(c, "group", group, "describe");
      return c.json(await groups.describe(group));
    })
    .delete("/v1/groups/:group", params(GroupParams), async (c) => {
      const { group } = c.req.valid("param");
      access.check(c, "group", group, "delete");
      await groups.deleteGroup(group);
      return c.body(null, 204);
    });
}

/**
 * The answer of a member fetch, `{"records":[…]}`, written into a buffer of `ctx.bodies`; `charge` is told
 * the key and value bytes of each partition's records (the fetch quota). Internal (also the Node lane's).
 */
export function memberRecordsJson(
  ctx: BrokerContext,
  reads: readonly CommittedRead[],
  encoding: Encoding,
  charge: (bytes: number) => void,
): JsonBytes {
  let estimate = 0;
  for (const read of reads) estimate += estimateRecordsJson(read.records, 32 + read.topic.length);
  const body = new JsonBytes(ctx.bodies.take(estimate)).ascii('{"records":[');
  let first = true;
  for (const { topic, partition, records } of reads) {
    if (records.length === 0) continue;
    // Topic names are [a-zA-Z0-9._-]: plain ASCII, no escaping needed.
    const prefix = `"topic":"${topic}","partition":${partition},`;
    const { bytes } = writeRecordsJson(body, records, encoding, { prefix, first });
    ctx.metrics.recordBytesOut += bytes;
    charge(bytes);
    first = false;
  }
  return body.ascii("]}");
}
