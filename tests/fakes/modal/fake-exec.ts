import { constants } from 'node:os';
import type net from 'node:net';
import { AgentFrame, encodeFrame, FrameReader, HostFrame } from './agent-client.ts';
import { OutputBuffer } from './output-buffer.ts';

export interface ExecExit {
  code: number | null;
  /** Signal number when the process was killed by one. */
  signal: number | null;
}

/** One `exec` in a sandbox: its output kept for offset reads, its stdin written by offset. */
export class FakeExec {
  readonly stdout = new OutputBuffer();
  readonly stderr = new OutputBuffer();
  /** Pid inside the sandbox's pid namespace. */
  innerPid?: number;
  stdinBytesWritten = 0;
  stdinClosed = false;
  exit?: ExecExit;
  readonly #waiters = new Set<() => void>();
  #timer?: NodeJS.Timeout;

  constructor(
    readonly execId: string,
    readonly argv: string[],
    private readonly socket: net.Socket,
    opts: { keepStdout: boolean; keepStderr: boolean; timeoutSecs?: number },
  ) {
    const reader = new FrameReader((type, payload) => {
      if (type === AgentFrame.Stdout && opts.keepStdout) this.stdout.append(payload);
      else if (type === AgentFrame.Stderr && opts.keepStderr) this.stderr.append(payload);
      else if (type === AgentFrame.Started) this.innerPid = (JSON.parse(payload.toString()) as { pid: number }).pid;
      else if (type === AgentFrame.Exit) {
        const e = JSON.parse(payload.toString()) as { code: number | null; signal: string | null };
        this.#finish({
          code: e.code,
          signal: e.signal ? (constants.signals[e.signal as keyof typeof constants.signals] ?? 9) : null,
        });
      }
    });
    socket.on('data', (d: Buffer) => reader.push(d));
    socket.on('error', () => {});
    // The agent died with its sandbox: the process was killed with it.
    socket.once('close', () => this.#finish({ code: null, signal: constants.signals.SIGKILL }));
    if (opts.timeoutSecs) this.#timer = setTimeout(() => this.kill('SIGKILL'), opts.timeoutSecs * 1000);
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** Writes stdin bytes at `offset`; bytes already written (a retried write) are skipped. */
  writeStdin(offset: number, data: Uint8Array, eof: boolean): void {
    if (this.stdinClosed) return;
    const skip = this.stdinBytesWritten - offset;
    if (skip < 0) throw new Error(`stdin write at offset ${offset} leaves a gap after ${this.stdinBytesWritten} bytes`);
    const fresh = Buffer.from(data).subarray(skip);
    if (fresh.length > 0) {
      this.socket.write(encodeFrame(HostFrame.StdinData, fresh));
      this.stdinBytesWritten += fresh.length;
    }
    if (eof) {
      this.stdinClosed = true;
      this.socket.write(encodeFrame(HostFrame.StdinEof, ''));
    }
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.running) this.socket.write(encodeFrame(HostFrame.Kill, signal));
  }

  /** The exit status, or undefined if `timeoutMs` passes (or `signal` aborts) first. */
  waitExit(timeoutMs: number, signal?: AbortSignal): Promise<ExecExit | undefined> {
    if (this.exit) return Promise.resolve(this.exit);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve(this.exit);
      };
      const timer = setTimeout(done, timeoutMs);
      this.#waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  #finish(exit: ExecExit): void {
    if (this.exit) return;
    this.exit = exit;
    clearTimeout(this.#timer);
    this.stdout.close();
    this.stderr.close();
    this.socket.end();
    for (const w of [...this.#waiters]) w();
  }
}
