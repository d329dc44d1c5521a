import type { KafkaMessage } from "@minikafka/client";
import { describe, expect, it } from "vitest";
import { ByteSink } from "./byte-sink.js";
import { CliError } from "./cli-error.js";
import { compileFormat, DEFAULT_FORMAT } from "./message-format.js";

const bytes = (text: string) => new TextEncoder().encode(text);
const message: KafkaMessage<Uint8Array> = {
  offset: 42,
  timestamp: 1_700_000_000_123,
  key: bytes("order-7"),
  value: bytes("héllo"),
  headers: { trace: bytes("abc"), empty: null },
};

function render(format: string, m: KafkaMessage<Uint8Array> = message): Buffer {
  const sink = new ByteSink(4); // tiny: every write grows it
  const formatter = compileFormat(format);
  formatter(sink, bytes("orders"), 3, m);
  formatter(sink, bytes("orders"), 3, m);
  return sink.take();
}

describe("compileFormat (kcat -f)", () => {
  it("prints the value and a newline by default", () => {
    expect(render(DEFAULT_FORMAT).toString()).toBe("héllo\nhéllo\n");
  });

  it("expands every kcat token", () => {
    expect(render("%t %p %o %T %k %K %s %S %h %%").toString()).toBe("orders 3 42 1700000000123 order-7 7 héllo 6 trace=abc,empty= %\n".repeat(2));
  });

  it("writes %R as a big-endian 32-bit length, -1 for null", () => {
    expect([...render("%R", { ...message, value: null })]).toEqual([0xff, 0xff, 0xff, 0xff, 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0a]);
    expect([...render("%R").subarray(0, 4)]).toEqual([0, 0, 0, 6]);
  });

  it("prints null keys and values as nothing, with length -1", () => {
    expect(render("[%k|%K|%s|%S]", { ...message, key: null, value: null }).toString()).toBe("[|-1||-1]\n[|-1||-1]\n");
  });

  it("understands \\n \\r \\t \\\\ \\xHH, and adds a newline only when the format does not end with one", () => {
    expect(render("%o\\t%s\\r\\n").toString()).toBe("42\théllo\r\n42\théllo\r\n");
    expect(render("a\\\\b\\x41").toString()).toBe("a\\bA\na\\bA\n");
    expect(render("%s\n").toString()).toBe("héllo\nhéllo\n");
    expect(render("--\\n%s").toString()).toBe("--\nhéllo\n--\nhéllo\n");
  });

  it("rejects unknown tokens and escapes as usage errors", () => {
    for (const [format, message] of [
      ["%z", "--format: unknown token %z (known: %s %S %R %k %K %T %h %t %p %o %%)"],
      ["abc%", "--format: unknown token % at the end (known: %s %S %R %k %K %T %h %t %p %o %%)"],
      ["\\q", "--format: unknown escape \\q (known: \\n \\r \\t \\\\ \\xHH)"],
      ["\\x4", "--format: unknown escape \\x (known: \\n \\r \\t \\\\ \\xHH)"],
    ]) {
      let error: unknown;
      try {
        compileFormat(format!);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(CliError);
      expect(error).toMatchObject({ code: "USAGE", message, command: "consume" });
    }
  });
});
