import { Hono } from "hono";
import { loadConsoleAssets, type ConsoleAsset } from "@minikafka/console";
import { BrokerError } from "../errors.js";

// Relative links: the page works wherever the broker is mounted (behind a proxy with a path prefix too).
const ROOT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>minikafka broker</title><link rel="icon" href="data:,"></head>
<body style="font: 15px/1.5 system-ui, sans-serif; margin: 2em">
<h1>minikafka broker</h1>
<ul>
<li><a href="./console/">Web console</a>: topics, records, consumer groups, broker metrics</li>
<li><a href="./openapi.json">OpenAPI document</a> of the HTTP API (<code>/v1</code>)</li>
<li><a href="./metrics">Prometheus metrics</a> · <a href="./healthz">/healthz</a> · <a href="./readyz">/readyz</a></li>
</ul>
</body></html>
`;

/**
 * `GET /` (links to the console and the API document) and the web console at `/console/`: the prebuilt
 * files of `@minikafka/console`, loaded into memory on first request. Hashed file names are immutable;
 * the page itself is revalidated on every load, so a new broker version's console is picked up at once.
 */
export function consoleRoutes(): Hono {
  const serve = (asset: ConsoleAsset) =>
    new Response(asset.body, {
      headers: { "content-type": asset.contentType, "cache-control": asset.cacheControl, "x-content-type-options": "nosniff" },
    });
  return new Hono()
    .get("/", (c) => c.html(ROOT_PAGE))
    .get("/console", (c) => c.redirect("console/", 308))
    .get("/console/", async () => serve((await loadConsoleAssets()).index))
    .get("/console/:file", async (c) => {
      const file = c.req.param("file");
      const asset = (await loadConsoleAssets()).files.get(file);
      if (asset === undefined) throw new BrokerError("NOT_FOUND", `the console has no file ${JSON.stringify(file.slice(0, 200))}`);
      return serve(asset);
    });
}
