// The client against a broker with auth and ACLs: its token goes with every request (admin, produce, the
// consumer's join, heartbeats, member fetches and commits), and refusals arrive as typed errors.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createClient, isClientError } from "../src/index.js";
import { startTestBroker } from "./helpers/broker.js";
import { until } from "./helpers/until.js";

const sha256 = (token: string) => createHash("sha256").update(token).digest("hex");
const options = {
  auth: {
    principals: [
      { name: "admin", tokenSha256: sha256("admin-token") },
      { name: "app", tokenSha256: sha256("app-token") },
    ],
    superUsers: ["admin"],
  },
  acls: [
    { principal: "app", resource: "topic", name: "orders", operations: ["read", "write"], permission: "allow" },
    { principal: "app", resource: "group", name: "billing", operations: ["read"], permission: "allow" },
  ],
} as const;

describe("createClient({ token })", () => {
  it("sends the token on every request: produce, and a consumer group's whole life", async () => {
    const broker = await startTestBroker(options);
    await createClient({ brokers: broker.url, token: "admin-token" })
      .admin()
      .createTopics({ topics: [{ topic: "orders", numPartitions: 2 }] });
    const app = createClient({ brokers: broker.url, token: "app-token" });
    const producer = app.producer();
    await producer.send({
      topic: "orders",
      messages: [
        { key: "a", value: "1" },
        { key: "b", value: "2" },
        { key: "c", value: "3" },
      ],
    });
    const consumer = app.consumer({ groupId: "billing", fromBeginning: true, maxWaitTimeMs: 100, messageFormat: "text" });
    await consumer.subscribe({ topics: ["orders"] });
    const got: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void got.push(message.value!) });
    await until("3 messages", () => got.length === 3);
    await consumer.disconnect();
    expect(got.sort()).toEqual(["1", "2", "3"]);
    // The commits went through too.
    const offsets = await createClient({ brokers: broker.url, token: "admin-token" })
      .admin()
      .fetchOffsets({ groupId: "billing", topics: ["orders"] });
    expect(offsets[0]!.partitions.reduce((n, p) => n + Number(p.offset), 0)).toBe(3);
    await producer.disconnect();
  });

  it("gets AUTHENTICATION_FAILED without a valid token and TOPIC_AUTHORIZATION_FAILED outside its ACLs, without retrying", async () => {
    const broker = await startTestBroker(options);
    const failure = async (promise: Promise<unknown>) => {
      const error = await promise.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isClientError(error)).toBe(true);
      return {
        code: (error as { code: string }).code,
        status: (error as { status?: number }).status,
        retriable: (error as { retriable: boolean }).retriable,
      };
    };
    expect(await failure(createClient({ brokers: broker.url }).admin().listTopics())).toEqual({
      code: "AUTHENTICATION_FAILED",
      status: 401,
      retriable: false,
    });
    expect(await failure(createClient({ brokers: broker.url, token: "wrong" }).admin().listTopics())).toMatchObject({
      code: "AUTHENTICATION_FAILED",
    });
    const app = createClient({ brokers: broker.url, token: "app-token" });
    expect(await failure(app.admin().createTopics({ topics: [{ topic: "other", numPartitions: 1 }] }))).toEqual({
      code: "TOPIC_AUTHORIZATION_FAILED",
      status: 403,
      retriable: false,
    });
  });

  it("refuses a token that cannot be a bearer token", () => {
    for (const token of ["", "two words", "line\nbreak", 42 as unknown as string]) {
      expect(() => createClient({ brokers: "http://127.0.0.1:1", token }), JSON.stringify(token)).toThrow(
        expect.objectContaining({ code: "INVALID_CONFIG" }),
      );
    }
  });
});
