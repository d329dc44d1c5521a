import { describe, expect, it } from "vitest";
import { envelope, openTestApp } from "../../test/helpers/test-app.js";

describe("console routes", () => {
  it("answers / with links to the console, the OpenAPI document and the metrics", async () => {
    const { call } = await openTestApp();
    const root = await call("GET", "/");
    expect(root.status).toBe(200);
    expect(root.headers.get("content-type")).toBe("text/html; charset=UTF-8");
    expect((root.body as string).match(/href="[^"]*"/g)).toEqual([
      'href="data:,"',
      'href="./console/"',
      'href="./openapi.json"',
      'href="./metrics"',
      'href="./healthz"',
      'href="./readyz"',
    ]);
  });

  it("redirects /console to /console/ (the console's files are named relative to it)", async () => {
    const { call } = await openTestApp();
    const answer = await call("GET", "/console");
    expect(answer.status).toBe(308);
    expect(answer.headers.get("location")).toBe("console/");
    expect(new URL(answer.headers.get("location")!, "http://broker.test/console").href).toBe("http://broker.test/console/");
  });

  it("serves the page as no-cache and its hashed files as immutable, with their content types", async () => {
    const { call } = await openTestApp();
    const page = await call("GET", "/console/");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("cache-control")).toBe("no-cache");
    const [script] = (page.body as string).match(/console-[A-Z0-9]+\.js/)!;
    const [style] = (page.body as string).match(/console-[A-Z0-9]+\.css/)!;
    const js = await call("GET", `/console/${script}`);
    expect([js.status, js.headers.get("content-type"), js.headers.get("cache-control"), js.headers.get("x-content-type-options")]).toEqual([
      200,
      "text/javascript; charset=utf-8",
      "public, max-age=31536000, immutable",
      "nosniff",
    ]);
    expect((js.body as string).length).toBeGreaterThan(10_000);
    const css = await call("GET", `/console/${style}`);
    expect([css.status, css.headers.get("content-type")]).toEqual([200, "text/css; charset=utf-8"]);
  });

  it("answers an unknown console file with the 404 envelope", async () => {
    const { call } = await openTestApp();
    const answer = await call("GET", "/console/console-NOPE.js");
    expect(answer).toMatchObject({ status: 404, body: envelope("NOT_FOUND") });
    expect(answer.body.error.message).toBe('the console has no file "console-NOPE.js"');
    expect((await call("GET", "/console/..%2Fpackage.json")).status).toBe(404);
  });
});
