import type { Readable, Writable } from "node:stream";
import { createClient, type Client } from "@minikafka/client";
import { stringOption, type OptionValues } from "./args.js";
import { usage } from "./cli-error.js";

/** Where a command reads and writes, and what stops it. */
export interface Context {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  env: Readonly<Record<string, string | undefined>>;
  /** Aborted on Ctrl-C (SIGINT) or SIGTERM: long-running commands stop cleanly. */
  signal: AbortSignal;
  /** Set by {@link connect}: the broker URL, for error messages. */
  brokerUrl?: string | undefined;
}

/** The broker URL used when neither `--broker` nor `MINIKAFKA_BROKER` is given. */
export const DEFAULT_BROKER = "http://127.0.0.1:8000";

/**
 * A client of the broker named by `--broker`, else `MINIKAFKA_BROKER`, else {@link DEFAULT_BROKER}; with
 * `--token` (else `MINIKAFKA_TOKEN`), every request carries `Authorization: Bearer <token>`.
 * Retries are fewer and shorter than the client's defaults: a command line should fail fast when the
 * broker is down.
 * @throws CliError `USAGE` for a URL that is not http(s).
 */
export function connect(context: Context, values: OptionValues, command: string): Client {
  const broker = stringOption(values, "broker") ?? nonEmpty(context.env.MINIKAFKA_BROKER) ?? DEFAULT_BROKER;
  let url: URL;
  try {
    url = new URL(broker);
  } catch {
    throw usage(`--broker ${JSON.stringify(broker)} is not a URL (expected e.g. ${DEFAULT_BROKER})`, command);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw usage(`--broker ${JSON.stringify(broker)} is not an http(s) URL`, command);
  context.brokerUrl = broker.replace(/\/+$/, "");
  const token = stringOption(values, "token") ?? nonEmpty(context.env.MINIKAFKA_TOKEN);
  return createClient({
    brokers: broker,
    clientId: "minikafka-cli",
    retry: { retries: 3, initialRetryTimeMs: 100, maxRetryTimeMs: 2_000 },
    token,
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
