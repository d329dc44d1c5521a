export { runCli, type CliIo } from "./run-cli.js";
