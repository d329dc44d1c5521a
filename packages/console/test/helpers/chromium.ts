import { existsSync } from "node:fs";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/**
 * The Chromium to drive: `CHROMIUM_PATH`, else Debian's `chromium` (what `.ci/run` installs).
 * @throws Error saying how to install it when there is none: the browser tests must not pass unseen.
 */
export function chromiumPath(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  const found = CANDIDATES.find((path) => existsSync(path));
  if (found === undefined) throw new Error("no Chromium found: `apt-get install -y chromium`, or set CHROMIUM_PATH");
  return found;
}
