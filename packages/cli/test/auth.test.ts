import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { startTestBroker } from "./helpers/broker.js";
import { runCli } from "./helpers/cli.js";

const sha256 = (token: string) => createHash("sha256").update(token).digest("hex");

describe.concurrent("minikafka against a broker with auth", () => {
  it("sends --token, else MINIKAFKA_TOKEN, on every request", async (context) => {
    const { url: broker } = await startTestBroker(context, { auth: { principals: [{ name: "ops", tokenSha256: sha256("ops-token") }] } });
    expect(await runCli(["topics", "create", "orders", "--partitions", "1"], { broker, env: { MINIKAFKA_TOKEN: "ops-token" } })).toMatchObject({ code: 0 });
    expect(await runCli(["produce", "orders"], { broker, stdin: "a\nb\n", env: { MINIKAFKA_TOKEN: "ops-token" } })).toMatchObject({ code: 0, stderr: "" });
    expect(await runCli(["--token", "ops-token", "topics", "list"], { broker })).toEqual({ code: 0, stdout: "orders\n", stderr: "" });
    // --token wins over the environment.
    expect(await runCli(["--token", "ops-token", "topics", "list"], { broker, env: { MINIKAFKA_TOKEN: "stale" } })).toMatchObject({ code: 0 });
    expect(await runCli(["topics", "list"], { broker })).toEqual({
      code: 1,
      stdout: "",
      stderr: "error: this broker needs an authorization: bearer <token> header (AUTHENTICATION_FAILED): set --token or MINIKAFKA_TOKEN\n",
    });
    expect(await runCli(["topics", "list"], { broker, env: { MINIKAFKA_TOKEN: "wrong" } })).toEqual({
      code: 1,
      stdout: "",
      stderr: "error: unknown bearer token (AUTHENTICATION_FAILED): set --token or MINIKAFKA_TOKEN\n",
    });
  });
});
