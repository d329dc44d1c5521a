import { describe, expect, it } from "vitest";
import { base64Decode, base64DecodeJs, base64Encode, base64EncodeJs, utf8Decode, utf8Encode } from "./bytes.js";

describe("base64", () => {
  it("matches the platform's base64 for every length from 0 to 300 and every byte value", () => {
    for (let n = 0; n <= 300; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 97 + n * 13) & 255);
      const expected = btoa(String.fromCharCode(...bytes));
      expect(base64Encode(bytes)).toBe(expected);
      expect(base64EncodeJs(bytes)).toBe(expected);
      expect(base64Decode(expected)).toEqual(bytes);
      expect(base64DecodeJs(expected)).toEqual(bytes);
    }
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(base64Decode(base64Encode(all))).toEqual(all);
  });

  it("encodes large inputs (beyond one String.fromCharCode chunk)", () => {
    const big = Uint8Array.from({ length: 20_000 }, (_, i) => i % 251);
    expect(base64Decode(base64Encode(big))).toEqual(big);
    expect(base64DecodeJs(base64EncodeJs(big))).toEqual(big);
    // Views encode only their own bytes; decoded values are plain Uint8Arrays of their own.
    expect(base64Encode(big.subarray(3, 6))).toBe(btoa(String.fromCharCode(3, 4, 5)));
    expect(Object.getPrototypeOf(base64Decode("AAEC"))).toBe(Uint8Array.prototype);
  });

  it("refuses text that is not padded standard base64", () => {
    expect(() => base64DecodeJs("abc")).toThrow("length 3 is not a multiple of 4");
    expect(() => base64DecodeJs("ab-_")).toThrow("unexpected character at 2");
    expect(() => base64DecodeJs("AAAAab=c")).toThrow("unexpected character at 6");
    expect(() => base64DecodeJs("é===")).toThrow("unexpected character at 0");
    expect(() => base64DecodeJs("AAAA\u0100AA=")).toThrow("unexpected character at 4");
    expect(() => base64Decode("ab-_")).toThrow("unexpected character at 2");
    expect(() => base64Decode("AA AA===")).toThrow();
  });
});

describe("utf8", () => {
  it("round-trips text and replaces lone surrogates with U+FFFD", () => {
    expect(utf8Decode(utf8Encode("héllo ✓ 𝄞"))).toBe("héllo ✓ 𝄞");
    expect(utf8Encode("\ud800")).toEqual(new Uint8Array([0xef, 0xbf, 0xbd]));
  });
});
