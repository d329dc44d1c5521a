// The crash-point loop both power-loss workloads share: run a seed's workload once on the simulated disk to
// count its file operations, then rerun it with the power failing at one operation of each of `crashPoints`
// equal slices of the run, open what the disk kept and check it.
import type { LogStore } from "../../src/log-store.js";
import { CrashFs, random } from "./crash-fs.js";

/** The store a workload runs on; `reopen` closes it cleanly and opens it again (a restart). */
export interface Session {
  store: LogStore;
  reopen(): Promise<void>;
}

/** One workload under simulated power loss. */
export interface CrashWorkload<M extends { violations: string[] }> {
  /** The environment variable that replays one seed (named in failure messages). */
  readonly replayVariable: string;
  /** Salt of the generator that picks the crash operation in each slice. */
  readonly pickSalt: number;
  /** Opens the store of `seed` on `fs`. */
  open(fs: CrashFs): Promise<LogStore>;
  /** A fresh model (what was asked, what was acknowledged). */
  model(): M;
  /** Runs the workload, recording into `model`. */
  run(session: Session, rand: () => number, model: M): Promise<void>;
  /** Problems with the store recovered from `disk` (open already succeeded). */
  check(recovered: LogStore, disk: CrashFs, model: M): Promise<string[]>;
}

/** A {@link Session} over `store`, reopened with `open`. */
export function session(store: LogStore, open: () => Promise<LogStore>): Session {
  const s: Session = {
    store,
    async reopen() {
      await s.store.close();
      s.store = await open();
    },
  };
  return s;
}

/**
 * Runs one seed: counts the workload's file operations, then reruns it `crashPoints` times with the power
 * failing at one operation of each of that many equal slices of the run, and checks each recovered disk.
 * @throws Error naming the seed, the operation and the last operations of the trace, on any problem
 */
export async function runCrashPoints<M extends { violations: string[] }>(
  dataDir: string,
  seed: number,
  crashPoints: number,
  workload: CrashWorkload<M>,
): Promise<void> {
  const fresh = () => {
    const fs = new CrashFs(random(seed * 7 + 1));
    fs.mkdirSync(dataDir, { recursive: true });
    fs.syncAll();
    fs.ops = 0;
    fs.trace.length = 0;
    return fs;
  };
  const counting = fresh();
  const first = session(await workload.open(counting), () => workload.open(counting));
  const model = workload.model();
  await workload.run(first, random(seed), model);
  await first.store.close();
  if (model.violations.length > 0) throw new Error(`seed ${seed} without a crash:\n${model.violations.join("\n")}`);
  const total = counting.ops;
  const pick = random(seed ^ workload.pickSalt);
  for (let k = 0; k < crashPoints; k++) {
    const from = Math.floor((k * total) / crashPoints);
    const to = Math.floor(((k + 1) * total) / crashPoints);
    await crashAndCheck(seed, fresh(), 1 + from + Math.floor(pick() * Math.max(1, to - from)), total, workload);
  }
}

async function crashAndCheck<M extends { violations: string[] }>(
  seed: number,
  fs: CrashFs,
  crashAt: number,
  total: number,
  workload: CrashWorkload<M>,
): Promise<void> {
  fs.crashAt = crashAt;
  const describe = () =>
    `seed ${seed}: power lost at operation ${crashAt} of ${total} (replay: ${workload.replayVariable}=${seed}); last operations:\n  ${fs.trace.join("\n  ")}`;
  let running: Session | undefined;
  const model = workload.model();
  try {
    running = session(await workload.open(fs), () => workload.open(fs));
    await workload.run(running, random(seed), model);
  } catch {
    // The power failed (while opening, appending, restarting, ...): what was not acknowledged may be gone.
  }
  // The machine is off: closing only releases the directory lock (every file operation fails).
  await running?.store.close();
  if (!fs.poweredOff) throw new Error(`${describe()}\nthe power never failed: the workload did not repeat itself`);

  const disk = fs.afterPowerLoss(random(seed * 31 + crashAt));
  let recovered: LogStore;
  try {
    recovered = await workload.open(disk);
  } catch (error) {
    throw new Error(`${describe()}\nrecovery refused to open: ${(error as Error).message}`, { cause: error });
  }
  try {
    const problems = await workload.check(recovered, disk, model);
    if (problems.length > 0) throw new Error(`${describe()}\n${problems.join("\n")}`);
  } finally {
    await recovered.close();
  }
}
