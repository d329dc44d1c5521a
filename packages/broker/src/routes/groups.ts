import { Hono } from "hono";
import { CommitBody, GroupParams, HeartbeatBody, JoinBody, MemberFetchQuery, MemberParams } from "@minikafka/protocol";
import { sendJsonBytes } from "../body-pool.js";
import type { BrokerContext } from "../context.js";
import { parsePositions } from "../core/committed-reader.js";
import { JsonBytes, estimateRecordsJson, writeRecordsJson } from "../encoding.js";
import { jsonBody, params, query } from "../validate.js";

/** `/v1/groups`: join, heartbeat, leave, fetch from committed offsets, commit, list, describe with lag, delete. */
export function groupRoutes(ctx: BrokerContext): Hono {
  const { groups } = ctx.core;
  return new Hono()
    .post("/v1/groups/:group/members", params(GroupParams), jsonBody(JoinBody), (c) => {
      const { topics, instanceId } = c.req.valid("json");
      return c.json(groups.join(c.req.valid("param").group, { topics, instanceId }), 201);
    })
    .post("/v1/groups/:group/members/:member/heartbeat", params(MemberParams), jsonBody(HeartbeatBody), (c) => {
      const { group, member } = c.req.valid("param");
      return c.json(groups.heartbeat(group, member, c.req.valid("json")));
    })
    .delete("/v1/groups/:group/members/:member", params(MemberParams), (c) => {
      const { group, member } = c.req.valid("param");
      groups.leave(group, member);
      return c.body(null, 204);
    })
    .get("/v1/groups/:group/members/:member/records", params(MemberParams), query(MemberFetchQuery), async (c) => {
      const { group, member } = c.req.valid("param");
      const { maxRecords, maxBytes, waitMs, encoding = "utf8", positions } = c.req.valid("query");
      const reads = await groups.memberFetch(group, member, {
        maxRecords,
        maxBytes,
        waitMs,
        positions: parsePositions(positions),
        signal: c.req.raw.signal,
      });
      let estimate = 0;
      for (const read of reads) estimate += estimateRecordsJson(read.records, 32 + read.topic.length);
      const body = new JsonBytes(ctx.bodies.take(estimate)).ascii('{"records":[');
      let first = true;
      for (const { topic, partition, records } of reads) {
        if (records.length === 0) continue;
        // Topic names are [a-zA-Z0-9._-]: plain ASCII, no escaping needed.
        const prefix = `"topic":"${topic}","partition":${partition},`;
        ctx.metrics.recordBytesOut += writeRecordsJson(body, records, encoding, { prefix, first }).bytes;
        first = false;
      }
      return sendJsonBytes(c, ctx.bodies, body.ascii("]}"));
    })
    .post("/v1/groups/:group/offsets", params(GroupParams), jsonBody(CommitBody), async (c) => {
      await groups.commitOffsets(c.req.valid("param").group, c.req.valid("json"));
      return c.body(null, 204);
    })
    .get("/v1/groups", (c) => c.json({ groups: groups.list() }))
    .get("/v1/groups/:group", params(GroupParams), async (c) => c.json(await groups.describe(c.req.valid("param").group)))
    .delete("/v1/groups/:group", params(GroupParams), async (c) => {
      await groups.deleteGroup(c.req.valid("param").group);
      return c.body(null, 204);
    });
}
