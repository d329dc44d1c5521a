// A lock contender for the directory-lock tests. Commands on stdin, one per line:
//   go <dir> <epochMs>  spin until the wall clock reaches epochMs, then try to take the lock on dir;
//                       prints "won" or "lost <code> <message>"
//   release             releases what it won; prints "released"
//   hold <dir>          takes the lock at once; prints "locked" (then waits to be killed)
import { createInterface } from "node:readline";
import { DirectoryLock } from "../../src/directory-lock.js";

let held: DirectoryLock | undefined;

function attempt(dir: string): string {
  try {
    held = DirectoryLock.acquire(dir);
    return "won";
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    return `lost ${code ?? "?"} ${message}`;
  }
}

for await (const line of createInterface({ input: process.stdin })) {
  const [command, dir, at] = line.split(" ");
  if (command === "go") {
    const start = Number(at);
    while (Date.now() < start); // all contenders leave this loop within a scheduler tick of each other
    process.stdout.write(`${attempt(dir!)}\n`);
  } else if (command === "release") {
    held?.release();
    held = undefined;
    process.stdout.write("released\n");
  } else if (command === "hold") {
    process.stdout.write(attempt(dir!) === "won" ? "locked\n" : "failed\n");
  }
}
