import { ClientError } from "@minikafka/client";
import { describe, expect, it } from "vitest";
import { failed, usage } from "./cli-error.js";
import { describeError } from "./describe-error.js";

describe("describeError", () => {
  it("maps usage errors to exit 2 with a pointer to --help, failures to exit 1", () => {
    expect(describeError(usage("missing NAME", "topics describe"), undefined)).toEqual({
      message: "missing NAME (see: minikafka topics describe --help)",
      exitCode: 2,
    });
    expect(describeError(failed("topic a already exists"), undefined)).toEqual({ message: "topic a already exists", exitCode: 1 });
  });

  it("names the broker a network failure could not reach, with the errno code from the cause chain", () => {
    const cause = new TypeError("fetch failed", { cause: new AggregateError([Object.assign(new Error("connect"), { code: "ECONNREFUSED" })]) });
    const error = new ClientError("NETWORK_EXCEPTION", "get /v1/topics failed: fetch failed", { retriable: true, cause });
    expect(describeError(error, "http://127.0.0.1:9")).toEqual({
      message: "cannot reach the broker at http://127.0.0.1:9 (ECONNREFUSED): is it running? (set --broker or MINIKAFKA_BROKER)",
      exitCode: 1,
    });
  });

  it("keeps the broker's message and code on one line", () => {
    expect(describeError(new ClientError("INVALID_PARTITIONS", "count 2 is not\nlarger than 3"), "http://b")).toEqual({
      message: "count 2 is not larger than 3 (INVALID_PARTITIONS)",
      exitCode: 1,
    });
    expect(describeError(new ClientError("REQUEST_TIMED_OUT", "no answer to GET /v1/topics within 30000 ms"), "http://b")).toEqual({
      message: "the broker at http://b did not answer in time: no answer to GET /v1/topics within 30000 ms",
      exitCode: 1,
    });
  });
});
