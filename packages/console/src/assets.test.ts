import { describe, expect, it } from "vitest";
import { toConsoleAssets } from "./assets.js";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("toConsoleAssets", () => {
  it("gives each file its content type, hashed files an immutable cache and the page no-cache", () => {
    const assets = toConsoleAssets(
      new Map([
        ["index.html", bytes("<!doctype html>")],
        ["console-AB12CD34.js", bytes("export {}")],
        ["console-EF56GH78.css", bytes("body{}")],
        ["console-AB12CD34.wasm", bytes("?")],
      ]),
    );
    expect([...assets.files.values()].map((a) => [a.name, a.contentType, a.cacheControl])).toEqual([
      ["index.html", "text/html; charset=utf-8", "no-cache"],
      ["console-AB12CD34.js", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"],
      ["console-EF56GH78.css", "text/css; charset=utf-8", "public, max-age=31536000, immutable"],
      ["console-AB12CD34.wasm", "application/octet-stream", "public, max-age=31536000, immutable"],
    ]);
    expect(assets.index).toBe(assets.files.get("index.html"));
    expect(new TextDecoder().decode(assets.index.body)).toBe("<!doctype html>");
  });

  it("refuses a set of files without the page", () => {
    expect(() => toConsoleAssets(new Map([["console-AB12CD34.js", bytes("")]]))).toThrow("the console's index.html is missing");
  });
});
