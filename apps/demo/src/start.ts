// `pnpm start`: the broker's own command (`minikafka-broker`, the same flags and environment), on
// 127.0.0.1:8000 with its data in ./data by default, until Ctrl-C.
import { runBroker } from "@minikafka/broker";

process.exitCode = await runBroker(process.argv.slice(2), {
  program: "pnpm start",
  // `pnpm start` runs this from apps/demo; a relative data dir means relative to where the user typed it.
  cwd: process.env.INIT_CWD ?? process.cwd(),
});
