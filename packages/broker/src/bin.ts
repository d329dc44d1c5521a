#!/usr/bin/env node
// The `minikafka-broker` executable: a broker until Ctrl-C or SIGTERM (see `minikafka-broker --help`).
import { runBroker } from "./run-broker.js";

process.exitCode = await runBroker(process.argv.slice(2));
