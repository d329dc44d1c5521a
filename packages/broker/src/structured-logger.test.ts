import { describe, expect, it } from "vitest";
import { LogStoreError } from "@minikafka/log-store";
import { StructuredLogger } from "./structured-logger.js";

const at = Date.UTC(2026, 0, 2, 3, 4, 5, 6);

function logger(options: ConstructorParameters<typeof StructuredLogger>[0] = {}) {
  const lines: string[] = [];
  const log = new StructuredLogger({ now: () => at, write: (line) => lines.push(line), ...options });
  return { log, lines };
}

describe("StructuredLogger", () => {
  it("text: time, level, message, then key=value with quoting where needed", () => {
    const { log, lines } = logger();
    log.log("info", "topic.created", "topic t created", { topic: "t", partitions: 3, note: "two words", skipped: undefined, list: ["a"] });
    log.log("warn", "x", "careful");
    expect(lines).toEqual([
      '2026-01-02T03:04:05.006Z INFO  topic t created topic=t partitions=3 note="two words" list="[\\"a\\"]"\n',
      "2026-01-02T03:04:05.006Z WARN  careful\n",
    ]);
  });

  it("json: one object per line with time, level, event, msg and the fields", () => {
    const { log, lines } = logger({ format: "json" });
    log.log("info", "topic.created", "topic t created", { topic: "t", partitions: 3 });
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      { time: "2026-01-02T03:04:05.006Z", level: "info", event: "topic.created", msg: "topic t created", topic: "t", partitions: 3 },
    ]);
    expect(lines[0]!.endsWith("}\n")).toBe(true);
  });

  it("writes only lines at or above its level", () => {
    const { log, lines } = logger({ level: "warn", format: "json" });
    for (const level of ["error", "warn", "info", "debug"] as const) log.log(level, "e", level);
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(["error", "warn"]);
    expect([log.enabled("warn"), log.enabled("info")]).toEqual([true, false]);
  });

  it("as a BrokerLogger: storage codes are storage.error, other errors broker.error with a stack only for bugs", () => {
    const { log, lines } = logger({ format: "json" });
    log.error("minikafka broker: CORRUPT_RECORD: bad batch", new LogStoreError("CORRUPT_RECORD", "bad batch"));
    log.error("minikafka broker: unexpected error", new TypeError("x is undefined"));
    const [storage, bug] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(storage).toEqual({
      time: "2026-01-02T03:04:05.006Z",
      level: "error",
      event: "storage.error",
      msg: "CORRUPT_RECORD: bad batch",
      error: "bad batch",
      code: "CORRUPT_RECORD",
    });
    expect(bug).toMatchObject({ level: "error", event: "broker.error", msg: "unexpected error", error: "x is undefined" });
    expect(String(bug!.stack)).toContain("TypeError: x is undefined");
  });
});
