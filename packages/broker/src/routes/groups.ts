import type { GroupDescription } from "@minikafka/group-coordinator";
import { Hono } from "hono";
import { parsePositions, partitionsOf, readFromCommitted, type CommittedReads } from "../committed-reader.js";
import { sendJsonBytes } from "../body-pool.js";
import type { BrokerContext } from "../context.js";
import { JsonBytes, estimateRecordsJson, writeRecordsJson } from "../encoding.js";
import { miniKafkaErrorCode } from "../errors.js";
import { groupLag } from "../group-lag.js";
import { waitForAny } from "../long-poll.js";
import { CommitBody, GroupParams, HeartbeatBody, JoinBody, MemberFetchQuery, MemberParams } from "@minikafka/protocol";
import { jsonBody, params, query } from "../validate.js";

const DEFAULT_MAX_RECORDS = 500;
const DEFAULT_MAX_BYTES = 1024 * 1024;

/** `/v1/groups`: join, heartbeat, leave, fetch from committed offsets, commit, list, describe with lag. */
export function groupRoutes(ctx: BrokerContext): Hono {
  const { coordinator } = ctx;
  return new Hono()
    .use("/v1/groups/*", async (_c, next) => {
      ctx.expireSessions();
      await next();
    })
    .post("/v1/groups/:group/members", params(GroupParams), jsonBody(JoinBody), (c) => {
      const { topics, instanceId } = c.req.valid("json");
      return c.json(coordinator.join(c.req.valid("param").group, { topics, instanceId }), 201);
    })
    .post("/v1/groups/:group/members/:member/heartbeat", params(MemberParams), jsonBody(HeartbeatBody), (c) => {
      const { group, member } = c.req.valid("param");
      return c.json(coordinator.heartbeat(group, member, c.req.valid("json")));
    })
    .delete("/v1/groups/:group/members/:member", params(MemberParams), (c) => {
      const { group, member } = c.req.valid("param");
      coordinator.leave(group, member);
      return c.body(null, 204);
    })
    .get("/v1/groups/:group/members/:member/records", params(MemberParams), query(MemberFetchQuery), async (c) => {
      const { group, member } = c.req.valid("param");
      const {
        maxRecords = DEFAULT_MAX_RECORDS,
        maxBytes = DEFAULT_MAX_BYTES,
        waitMs = 0,
        encoding = "utf8",
        positions: positionsText,
      } = c.req.valid("query");
      const positions = parsePositions(positionsText);
      const partitions = partitionsOf(coordinator.describeMember(group, member).assignment);
      // Share the budget between the partitions, so that one busy partition cannot starve the others.
      const limits = {
        maxRecords: Math.ceil(maxRecords / Math.max(1, partitions.length)),
        maxBytes: Math.ceil(maxBytes / Math.max(1, partitions.length)),
      };
      let result: CommittedReads = await readFromCommitted(ctx, group, partitions, limits, positions);
      if (!result.reads.some((r) => r.records.length > 0)) {
        if (await waitForAny(ctx.store, result.waitTargets, Math.min(waitMs, ctx.maxWaitMs), [c.req.raw.signal, ctx.shutdown])) {
          // The assignment may have changed while waiting: serve the current one.
          result = await readFromCommitted(ctx, group, partitionsOf(coordinator.describeMember(group, member).assignment), limits, positions);
        }
      }
      let estimate = 0;
      for (const read of result.reads) estimate += estimateRecordsJson(read.records, 32 + read.topic.length);
      const body = new JsonBytes(ctx.bodies.take(estimate)).ascii('{"records":[');
      let remaining = maxRecords;
      for (const { topic, partition, records: stored } of result.reads) {
        if (remaining === 0) break;
        // Topic names are [a-zA-Z0-9._-]: plain ASCII, no escaping needed.
        const prefix = `"topic":"${topic}","partition":${partition},`;
        const written = writeRecordsJson(body, stored, encoding, { prefix, limit: remaining, first: remaining === maxRecords });
        remaining -= written.count;
        ctx.metrics.recordBytesOut += written.bytes;
      }
      return sendJsonBytes(c, ctx.bodies, body.ascii("]}"));
    })
    .post("/v1/groups/:group/offsets", params(GroupParams), jsonBody(CommitBody), async (c) => {
      await coordinator.commitOffsets(c.req.valid("param").group, c.req.valid("json"));
      return c.body(null, 204);
    })
    .get("/v1/groups", (c) => c.json({ groups: coordinator.listGroups() }))
    .get("/v1/groups/:group", params(GroupParams), async (c) => {
      const { group } = c.req.valid("param");
      let description: GroupDescription;
      try {
        description = coordinator.describeGroup(group);
      } catch (error) {
        // A group with committed offsets but no members since the broker started is still worth describing.
        if (miniKafkaErrorCode(error) !== "GROUP_ID_NOT_FOUND") throw error;
        const offsets = await groupLag(ctx, group);
        if (offsets.length === 0) throw error;
        return c.json({ groupId: group, state: "empty", groupEpoch: 0, assignmentEpoch: 0, members: [], offsets });
      }
      const members = description.members.map((m) => ({ ...m, instanceId: m.instanceId ?? null }));
      const offsets = await groupLag(
        ctx,
        group,
        description.members.map((m) => m.targetAssignment),
      );
      return c.json({ ...description, members, offsets });
    });
}
