import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as client from "./index.js";

describe("@minikafka/client public surface", () => {
  it("exports Producer, Consumer and Admin as types only: a Client makes them", () => {
    expect(Object.keys(client).sort()).toEqual(["ClientError", "createClient", "isClientError"]);
    const kafka = client.createClient({ brokers: "http://127.0.0.1:1" });
    // Still usable as types, which is all a user can write about them.
    const made: [client.Producer, client.Consumer, client.Admin] = [kafka.producer(), kafka.consumer({ groupId: "g" }), kafka.admin()];
    expect(made.map((x) => typeof x.disconnect)).toEqual(["function", "function", "function"]);
    // @ts-expect-error not a value any more (`new Producer()` used to compile against the built types)
    expect(() => new client.Producer()).toThrow(TypeError);
  });

  it("has no @internal tag in the public surface: the build's stripInternal would drop the export it precedes", () => {
    const source = readFileSync(new URL("./index.ts", import.meta.url), "utf8");
    expect(source.includes("@internal")).toBe(false);
  });
});
