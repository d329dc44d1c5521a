import { describe, expect, it } from "vitest";
import { checkHistory, type History } from "./checker.js";

/** Two producers on two partitions, consumed by two consumers with a handover of partition 0 at t=50. */
function clean(): History {
  return {
    produces: [
      { producer: "a", partition: 0, values: ["a-0", "a-1"], outcome: "acked", offsets: [0, 1] },
      { producer: "a", partition: 0, values: ["a-2"], outcome: "failed" },
      { producer: "a", partition: 0, values: ["a-2"], outcome: "acked", offsets: [2] },
      { producer: "a", partition: 0, values: ["a-3"], outcome: "unknown" },
      { producer: "b", partition: 1, values: ["b-0"], outcome: "unknown" },
      { producer: "b", partition: 1, values: ["b-1"], outcome: "acked", offsets: [1] },
    ],
    log: [
      ["a-0", "a-1", "a-2"],
      ["b-0", "b-1"],
    ],
    deliveries: [
      { consumer: "c1", partition: 0, offset: 0, value: "a-0", at: 10 },
      { consumer: "c1", partition: 0, offset: 1, value: "a-1", at: 11 },
      { consumer: "c2", partition: 1, offset: 0, value: "b-0", at: 12 },
      // c1 dies before committing offset 1's successor: c2 gets offset 1 again (at-least-once).
      { consumer: "c2", partition: 0, offset: 1, value: "a-1", at: 60 },
      { consumer: "c2", partition: 0, offset: 2, value: "a-2", at: 61 },
      { consumer: "c2", partition: 1, offset: 1, value: "b-1", at: 62 },
    ],
    commits: [
      { consumer: "c1", partition: 0, offset: 1, at: 20 },
      { consumer: "c2", partition: 0, offset: 3, at: 70 },
      { consumer: "c2", partition: 1, offset: 2, at: 70 },
    ],
  };
}

const kinds = (history: History) => checkHistory(history).map((a) => a.kind);

describe("checkHistory", () => {
  it("finds nothing wrong in a clean history with retries, unknown outcomes and a redelivery of uncommitted records", () => {
    expect(checkHistory(clean())).toEqual([]);
  });

  it("finds an acknowledged record missing from the log, or at another offset", () => {
    const missing = clean();
    missing.log[0] = ["a-0", "a-1"];
    missing.deliveries = missing.deliveries.filter((d) => !(d.partition === 0 && d.offset === 2));
    missing.commits[1]!.offset = 2;
    expect(kinds(missing)).toEqual(["lost"]);
    const moved = clean();
    moved.produces[0]!.offsets = [0, 2];
    expect(kinds(moved)).toContain("lost");
  });

  it("finds a record stored although its producer was told it failed, and one nobody sent", () => {
    const refused = clean();
    refused.produces.splice(2, 1); // "a-2" only ever failed
    expect(kinds(refused)).toEqual(["phantom"]);
    const invented = clean();
    invented.log[1]!.push("z-9");
    invented.deliveries.push({ consumer: "c2", partition: 1, offset: 2, value: "z-9", at: 63 });
    expect(kinds(invented)).toEqual(["phantom"]);
  });

  it("finds a value stored twice", () => {
    const twice = clean();
    twice.log[1]!.push("b-1");
    twice.deliveries.push({ consumer: "c2", partition: 1, offset: 2, value: "b-1", at: 63 });
    expect(kinds(twice)).toEqual(["duplicated", "reordered"]); // the second copy also comes after itself
  });

  it("finds one producer's records out of order within a partition", () => {
    const swapped = clean();
    swapped.log[0] = ["a-1", "a-0", "a-2"];
    swapped.produces[0]!.offsets = [1, 0];
    swapped.deliveries = swapped.deliveries.map((d) => (d.partition === 0 && d.offset < 2 ? { ...d, value: d.offset === 0 ? "a-1" : "a-0" } : d));
    expect(kinds(swapped)).toEqual(["reordered"]);
  });

  it("finds a consumer handed a value the log does not hold at that offset", () => {
    const wrong = clean();
    wrong.deliveries[2]!.value = "b-1";
    expect(kinds(wrong)).toEqual(["wrong-delivery"]);
  });

  it("finds a record nobody was handed, and a commit made before a record below it was handed out", () => {
    const never = clean();
    never.deliveries = never.deliveries.filter((d) => !(d.partition === 1 && d.offset === 0));
    expect(kinds(never)).toEqual(["skipped", "skipped"]); // never handed out, and committed past
    const early = clean();
    early.commits[0] = { consumer: "c1", partition: 0, offset: 3, at: 20 }; // offset 2 came only at 61
    // … and c2 is then handed offsets 1 and 2 below that commit.
    expect(kinds(early)).toEqual(["skipped", "redelivered-after-commit", "redelivered-after-commit"]);
  });

  it("finds a record below an acknowledged commit handed out after that commit", () => {
    const again = clean();
    again.deliveries.push({ consumer: "c1", partition: 0, offset: 2, value: "a-2", at: 71 });
    expect(kinds(again)).toEqual(["redelivered-after-commit"]);
    // A lower commit later does not lower the bar.
    again.commits.push({ consumer: "c1", partition: 0, offset: 1, at: 70.5 });
    expect(kinds(again)).toEqual(["redelivered-after-commit"]);
  });
});
