import type { FileMap, Logger } from '../ports/index.ts';

/**
 * Writes the app's files into its sandbox while the model is still writing them, so the
 * creator's live view takes shape as each file is finished. Through the runtime's write, so
 * the sandbox's source check applies as to any write (what it refuses is left for the real
 * write after the model's turn to report). One write at a time: snapshots that arrive during
 * a write are coalesced to the newest. `close` waits for the write under way and drops the rest.
 */
export class LiveWriter {
  private pending?: FileMap;
  private running?: Promise<void>;
  private closed = false;

  constructor(
    private readonly write: (files: FileMap) => Promise<unknown>,
    private readonly logger: Pick<Logger, 'debug'>,
  ) {}

  push(files: FileMap): void {
    if (this.closed) return;
    this.pending = files;
    this.running ??= this.drain();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.pending = undefined;
    await this.running;
  }

  private async drain(): Promise<void> {
    while (this.pending && !this.closed) {
      const files = this.pending;
      this.pending = undefined;
      await this.write(files).catch((err: unknown) => this.logger.debug({ err }, 'a live write failed'));
    }
    this.running = undefined;
  }
}
