// The shape of the console's files as the broker serves them, shared by the published entry (files read
// from dist/assets) and the source entry (files built in memory on demand).

/** One file of the console, as served under `/console/`. */
export interface ConsoleAsset {
  /** The file name under `/console/`: `index.html`, or a content-hashed `console-<hash>.js` / `.css`. */
  readonly name: string;
  /** The file's bytes. */
  readonly body: Uint8Array;
  /** The `content-type` to serve it with. */
  readonly contentType: string;
  /**
   * The `cache-control` to serve it with: hashed files never change under their name (`immutable`, a year);
   * `index.html` names the current hashes, so it is revalidated on every load (`no-cache`).
   */
  readonly cacheControl: string;
}

/** Every file of the console. */
export interface ConsoleAssets {
  /** The page itself (`index.html`), served at `/console/`. */
  readonly index: ConsoleAsset;
  /** Every file by name, `index.html` included. */
  readonly files: ReadonlyMap<string, ConsoleAsset>;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  map: "application/json",
  png: "image/png",
  svg: "image/svg+xml",
};

/** The name of the page; every other file carries a content hash in its name. */
export const INDEX_FILE = "index.html";

/** Turns file names and bytes into {@link ConsoleAssets}. */
export function toConsoleAssets(files: ReadonlyMap<string, Uint8Array>): ConsoleAssets {
  const assets = new Map<string, ConsoleAsset>();
  for (const [name, body] of files) {
    const extension = name.slice(name.lastIndexOf(".") + 1);
    assets.set(name, {
      name,
      body,
      contentType: CONTENT_TYPES[extension] ?? "application/octet-stream",
      cacheControl: name === INDEX_FILE ? "no-cache" : "public, max-age=31536000, immutable",
    });
  }
  const index = assets.get(INDEX_FILE);
  if (index === undefined) throw new Error(`the console's ${INDEX_FILE} is missing`);
  return { index, files: assets };
}
