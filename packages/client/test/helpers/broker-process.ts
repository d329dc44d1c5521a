// A broker in its own process (fsync "always"), killed with SIGKILL and restarted on the same port and data
// directory: for the tests that crash the broker under real clients.
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";
import { exited, onLines, spawnTs } from "../../../../test-support/spawn-ts.js";

const brokerChild = fileURLToPath(new URL("../../../broker/test/helpers/group-broker-child.ts", import.meta.url));
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The broker: a real process, killed and restarted on the same port and data directory. */
export class BrokerProcess {
  private proc: ChildProcessWithoutNullStreams | undefined;
  port = 0;

  /** `options`: more `StartBrokerOptions` for the child (JSON), beside the data directory and port. */
  constructor(
    private readonly dataDir: string,
    private readonly options: Record<string, unknown> = {},
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts it (again), on the port of the previous run once there was one. */
  async start(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const proc = spawnTs(brokerChild, [JSON.stringify({ ...this.options, dataDir: this.dataDir, port: this.port })]);
      let stderr = "";
      proc.stderr.on("data", (chunk) => (stderr += String(chunk)));
      const port = await new Promise<number | undefined>((resolve) => {
        onLines(proc, (line) => line.startsWith("listening ") && resolve(Number(line.slice(10))));
        proc.once("exit", () => resolve(undefined));
      });
      if (port !== undefined) {
        this.proc = proc;
        this.port = port;
        return;
      }
      if (attempt >= 20) throw new Error(`the broker does not start: ${stderr}`);
      await pause(100); // the port of the killed broker may take a moment to be free
    }
  }

  /** SIGKILL, and wait until the process is gone. */
  async kill(): Promise<void> {
    const proc = this.proc!;
    proc.kill("SIGKILL");
    await exited(proc);
  }
}
