/** Bytes a process wrote to one stream, kept whole so reads can start at any offset (the SDK resumes by offset). */
export class OutputBuffer {
  readonly #chunks: Buffer[] = [];
  #length = 0;
  #closed = false;
  readonly #waiters = new Set<() => void>();

  get length(): number {
    return this.#length;
  }

  append(data: Buffer): void {
    if (this.#closed || data.length === 0) return;
    this.#chunks.push(data);
    this.#length += data.length;
    this.#wake();
  }

  close(): void {
    this.#closed = true;
    this.#wake();
  }

  text(): string {
    return Buffer.concat(this.#chunks).toString('utf8');
  }

  /** Yields everything from `offset` on, as it arrives, until the stream is closed or `signal` aborts. */
  async *readFrom(offset: number, signal?: AbortSignal): AsyncGenerator<Buffer> {
    let pos = offset;
    while (!signal?.aborted) {
      if (pos < this.#length) {
        const all = Buffer.concat(this.#chunks);
        yield all.subarray(pos);
        pos = all.length;
        continue;
      }
      if (this.#closed) return;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.#waiters.delete(done);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        this.#waiters.add(done);
        signal?.addEventListener('abort', done, { once: true });
      });
    }
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }
}
