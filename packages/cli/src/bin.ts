#!/usr/bin/env node
// The `minikafka` executable. Ctrl-C (or SIGTERM) asks the running command to stop cleanly; a second one
// ends the process at once.
import { runCli } from "./run-cli.js";

const controller = new AbortController();
let signals = 0;
const onSignal = (signal: NodeJS.Signals) => {
  if (signals++ > 0) process.exit(signal === "SIGINT" ? 130 : 143);
  controller.abort();
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

process.exitCode = await runCli(process.argv.slice(2), { signal: controller.signal });
