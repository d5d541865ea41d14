import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** What the source check needs of one script: its parse errors, imports and import.meta uses (UTF-16 offsets). */
export interface ParsedScript {
  errors: { message: string; start: number }[];
  imports: { value: string; start: number }[];
  dynamicImports: { start: number; end: number }[];
  importMetas: { start: number; end: number }[];
}

/** The parser could not finish this input (it crashed, ran out of memory or time): the file is refused. */
export class UnparseableError extends Error {
  override name = 'UnparseableError';
}

const CHILD = fileURLToPath(new URL('./parser-process.mjs', import.meta.url));
const PRLIMIT = '/usr/bin/prlimit';

interface Pending {
  resolve(r: ParsedScript): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * Parses scripts with oxc-parser in a child process of its own, started on first use: a native
 * parser fed hostile text may overflow its stack or blow up its memory, and that must cost one
 * refused file, not the bot. The child's memory is capped, each parse has a deadline, and a
 * child that dies or overruns is replaced on the next request.
 */
export class ScriptParser {
  private child?: ChildProcess;
  private next = 1;
  private readonly pending = new Map<number, Pending>();
  /** One parse at a time: when the child dies, the input it died on is known. */
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Children that answered at least once (so they can start here, and a crash was the input's doing). */
  private readonly answered = new WeakSet<ChildProcess>();

  constructor(private readonly opts: { timeoutMs?: number; memoryMiB?: number } = {}) {}

  parse(file: string, text: string): Promise<ParsedScript> {
    this.closed = false;
    const run = this.tail.then(() => this.parseNow(file, text));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private parseNow(file: string, text: string): Promise<ParsedScript> {
    const child = this.ensureChild();
    const id = this.next++;
    return new Promise<ParsedScript>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(child, new UnparseableError(`parsing ${file} took longer than ${this.opts.timeoutMs ?? 3000} ms`));
      }, this.opts.timeoutMs ?? 3000);
      this.pending.set(id, { resolve, reject, timer });
      child.send({ id, file, text });
    });
  }

  close(): void {
    this.closed = true;
    const child = this.child;
    this.child = undefined;
    if (child) this.fail(child, new UnparseableError('the parser was closed'));
  }

  private ensureChild(): ChildProcess {
    if (this.child) return this.child;
    const heap = this.opts.memoryMiB ?? 512;
    // Native memory is not V8's to cap: an address-space limit bounds the parser's arena too.
    const wrap = existsSync(PRLIMIT)
      ? {
          execPath: PRLIMIT,
          execArgv: [
            `--as=${(heap + 4096) * 1024 * 1024}`,
            '--core=0',
            '--',
            process.execPath,
            `--max-old-space-size=${heap}`,
          ],
        }
      : { execArgv: [`--max-old-space-size=${heap}`] };
    // No secret of the bot's in its environment: it is the one process that reads hostile text natively.
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
    const child = fork(CHILD, [], {
      ...wrap,
      env,
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      serialization: 'json',
    });
    child.on('message', (m: { id: number; ok: boolean; result?: ParsedScript; error?: string }) => {
      this.answered.add(child);
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(m.result!);
      else p.reject(new UnparseableError(m.error ?? 'parse failed'));
    });
    child.on('exit', (code, signal) =>
      this.fail(child, new UnparseableError(`the parser stopped (${signal ?? code}) on this input`)),
    );
    child.on('error', (err) => this.fail(child, new UnparseableError(err.message)));
    child.unref();
    (child.channel as { unref?: () => void } | undefined)?.unref?.();
    this.child = child;
    return child;
  }

  /** Ends `child` and fails what it had in hand; a child that had worked is replaced at once, so the next file does not wait for a start. */
  private fail(child: ChildProcess, err: Error): void {
    if (this.child === child) {
      this.child = undefined;
      if (this.answered.has(child) && !this.closed) this.ensureChild();
    }
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(err);
      this.pending.delete(id);
    }
  }
}
