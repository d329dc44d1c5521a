import { existsSync } from "node:fs";
import puppeteer, { type Browser } from "puppeteer-core";

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

/**
 * Headless Chromium as every browser test here runs it (no sandbox or GPU, no /dev/shm). With `siteHost`,
 * that host name resolves to 127.0.0.1 inside this browser only, so a page can be served from an origin other
 * than the broker's.
 */
export function launchChromium(executablePath: string | undefined, siteHost?: string): Promise<Browser> {
  const args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"];
  if (siteHost !== undefined) args.push(`--host-resolver-rules=MAP ${siteHost} 127.0.0.1`);
  return puppeteer.launch({ executablePath, headless: true, args });
}
