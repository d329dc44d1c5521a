import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { crc32c, crc32cImplementation, crc32cJs, loadNativeCrc32c } from "./crc32c.js";

function reference(buf: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of buf) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const implementations = [
  ["crc32c", crc32c],
  ["crc32cJs", crc32cJs],
] as const;

describe.each(implementations)("%s", (_, crc32c) => {
  it("matches the standard check value and RFC 3720 vectors", () => {
    expect(crc32c(Buffer.from("123456789"))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it("agrees with the bit-at-a-time definition on every length and alignment", () => {
    const data = randomBytes(300);
    for (let start = 0; start < 9; start++) {
      for (let end = start; end <= data.length; end += 7) {
        expect(crc32c(data, start, end)).toBe(reference(data.subarray(start, end)));
      }
    }
  });

  it("agrees with the definition on large inputs and sub-ranges of them", () => {
    const data = randomBytes(70_000);
    for (const [start, end] of [
      [0, 70_000],
      [21, 70_000],
      [3, 511],
      [3, 515],
      [1000, 1512],
      [12_345, 67_890],
    ] as const) {
      expect(crc32c(data, start, end)).toBe(reference(data.subarray(start, end)));
    }
  });
});

describe("the native CRC-32C", () => {
  it("is used where @node-rs/crc32 is installed (it is, in this repository), unless MINIKAFKA_CRC32C=js", () => {
    expect(crc32cImplementation).toBe(process.env.MINIKAFKA_CRC32C === "js" ? "js" : "native");
    expect(loadNativeCrc32c()).toBeTypeOf("function");
  });

  it("is not used when it is missing, broken or computes something else", () => {
    const missing = () => {
      throw Object.assign(new Error("Cannot find module '@node-rs/crc32'"), { code: "MODULE_NOT_FOUND" });
    };
    expect(loadNativeCrc32c(missing)).toBeUndefined();
    expect(loadNativeCrc32c(() => ({}))).toBeUndefined();
    expect(loadNativeCrc32c(() => ({ crc32c: () => 42 }))).toBeUndefined();
    expect(
      loadNativeCrc32c(() => ({
        crc32c: () => {
          throw new Error("illegal instruction");
        },
      })),
    ).toBeUndefined();
    const good = () => 0xe3069283;
    expect(loadNativeCrc32c(() => ({ crc32c: good }))).toBe(good);
  });
});
