import { existsSync } from "node:fs";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/** The Chromium to drive: `CHROMIUM_PATH`, else Debian's `chromium` (what `.ci/run` installs); `undefined` when there is none. */
export function findChromium(): string | undefined {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  return CANDIDATES.find((path) => existsSync(path));
}

/**
 * {@link findChromium}, or an error saying how to install it.
 * @throws Error when there is no Chromium.
 */
export function chromiumPath(): string {
  const found = findChromium();
  if (found === undefined) throw new Error("no Chromium found: `apt-get install -y chromium`, or set CHROMIUM_PATH");
  return found;
}
