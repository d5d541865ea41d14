/**
 * Runs tasks one at a time per key, in the order they were queued; different keys run in
 * parallel. Used so refinements of one app never interleave.
 */
export class KeyedQueue {
  private tails = new Map<string, Promise<unknown>>();
  private depths = new Map<string, number>();

  /** How many tasks for `key` are running or waiting. */
  depth(key: string): number {
    return this.depths.get(key) ?? 0;
  }

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    this.depths.set(key, this.depth(key) + 1);
    const result = previous.catch(() => undefined).then(task);
    const tail = result.finally(() => {
      const left = this.depth(key) - 1;
      if (left === 0) {
        this.depths.delete(key);
        if (this.tails.get(key) === tail) this.tails.delete(key);
      } else this.depths.set(key, left);
    });
    this.tails.set(
      key,
      tail.catch(() => undefined),
    );
    return result;
  }
}
