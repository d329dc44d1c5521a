// A self-signed certificate for 127.0.0.1 and localhost, made with the openssl CLI (`.ci/run` installs it
// when missing), and requests over https trusting it.
import { execFileSync } from "node:child_process";
import type { IncomingHttpHeaders } from "node:http";
import { request, type RequestOptions } from "node:https";
import { join } from "node:path";

/** Writes `cert.pem` and `key.pem` (EC P-256, one day) into `dir`. */
export function selfSigned(dir: string): { certFile: string; keyFile: string } {
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      keyFile,
      "-out",
      certFile,
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ],
    { stdio: "pipe" },
  );
  return { certFile, keyFile };
}

/** What an https call got: status, headers, body text. */
export interface HttpsAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request over https (trusting `options.ca`), the whole answer read. */
export function httpsCall(url: string, options: RequestOptions & { body?: string }): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, options, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

/** An answer still streaming (SSE): its status and headers once they arrived, and a way to hang up. */
export interface OpenStream {
  status: number;
  /** Text received so far. */
  received(): string;
  /** Hangs up (the broker sees the connection close). */
  close(): void;
}

/** Starts a GET over https and resolves once the answer's head is in, leaving its body streaming. */
export function httpsOpen(url: string, options: RequestOptions): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ...options, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (d: string) => (text += d));
      res.on("error", () => {});
      resolve({ status: res.statusCode!, received: () => text, close: () => req.destroy() });
    });
    req.on("error", reject);
    req.end();
  });
}
