import type { ContainerProcess } from 'modal';
import { readCapped, readTail } from './read-capped.ts';

/** Each stdin message stays well under gRPC's 4 MiB default message limit. */
const STDIN_SLICE = 1024 * 1024;
/** Of an exec's stderr only the end is ever shown (in an error message). */
const STDERR_TAIL_BYTES = 64 * 1024;

/**
 * An exec's whole stdout (at most `maxStdout` bytes: past it the call fails, naming `what`),
 * the end of its stderr and its exit code. Read as it comes, so a process printing without end
 * costs the bot no more than the cap.
 */
export async function execOutput(
  proc: ContainerProcess<string | Uint8Array>,
  maxStdout: number,
  what: string,
): Promise<{ out: string; err: string; code: number }> {
  const [out, err, code] = await Promise.all([
    readCapped(proc.stdout, maxStdout, `the output of ${what}`),
    readTail(proc.stderr, STDERR_TAIL_BYTES),
    proc.wait(),
  ]);
  return { out, err, code };
}

/** The end of an exec's stderr (a write's tar, whose stdout says nothing). */
export function stderrTail(proc: ContainerProcess<string | Uint8Array>): Promise<string> {
  return readTail(proc.stderr, STDERR_TAIL_BYTES);
}

/**
 * Writes `data` to the process's stdin in slices of at most STDIN_SLICE (each is one gRPC
 * message) and closes it. A write fails once the process has exited (FAILED_PRECONDITION):
 * then stdin is closed and the error returned, so the caller reports the exit code and stderr.
 */
export async function sendStdin(proc: ContainerProcess, data: Uint8Array): Promise<unknown> {
  const writer = proc.stdin.getWriter();
  try {
    for (let at = 0; at < data.length; at += STDIN_SLICE) await writer.write(data.subarray(at, at + STDIN_SLICE));
    await writer.close();
    return undefined;
  } catch (err) {
    await proc.closeStdin().catch(() => undefined);
    return err ?? new Error('stdin write failed');
  }
}

export class DeadlineError extends Error {
  constructor(what: string) {
    super(`${what} took too long`);
  }
}

export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(what)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** Makes src/ exactly the tar's files, touching only files that changed (so HMR stays precise). */
export const SYNC_SCRIPT = `set -e
rm -rf .incoming && mkdir -p .incoming && tar -x -C .incoming
cd .incoming && find src -type f > ../.manifest
find src -type f | while read -r f; do
  if ! cmp -s "$f" "../$f"; then mkdir -p "../$(dirname "$f")"; mv -f "$f" "../$f"; fi
done
cd .. && rm -rf .incoming
find src -type f | grep -vxF -f .manifest | while read -r f; do rm -f "$f"; done
find src -mindepth 1 -type d -empty -delete
rm -f .manifest`;
