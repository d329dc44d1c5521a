import { describe, expect, it } from "vitest";
import { parseServeOptions } from "./options.js";

describe("parseServeOptions", () => {
  it("defaults to 127.0.0.1:8000 and ./data", () => {
    expect(parseServeOptions([], {})).toEqual({ host: "127.0.0.1", port: 8000, dataDir: "./data" });
  });

  it("takes PORT/HOST/DATA_DIR, and flags over them", () => {
    const env = { PORT: "9000", HOST: "0.0.0.0", DATA_DIR: "/srv/mk" };
    expect(parseServeOptions([], env)).toEqual({ host: "0.0.0.0", port: 9000, dataDir: "/srv/mk" });
    expect(parseServeOptions(["--port", "9100", "--data-dir", "d", "--host", "::1"], env)).toEqual({ host: "::1", port: 9100, dataDir: "d" });
  });

  it("rejects a bad port and unknown flags", () => {
    expect(() => parseServeOptions(["--port", "80a"], {})).toThrow('port must be an integer from 0 to 65535, got "80a"');
    expect(() => parseServeOptions([], { PORT: "70000" })).toThrow("port must be an integer");
    expect(() => parseServeOptions(["--verbose"], {})).toThrow();
  });
});
