/**
 * Runs tasks one at a time per key, in the order they were queued; different keys run in
 * parallel. Used so refinements of one app never interleave.
 */
export class KeyedQueue {
  private tails = new Map<string, Promise<void>>();
  private depths = new Map<string, number>();

  /** How many counted tasks for `key` are running or waiting. */
  depth(key: string): number {
    return this.depths.get(key) ?? 0;
  }

  /**
   * Queues `task` behind the tasks of `key`. `counted: false` keeps it out of `depth` (work that
   * must not race the others but is no one's request: publishing a version for its viewers).
   */
  run<T>(key: string, task: () => Promise<T>, opts: { counted?: boolean } = {}): Promise<T> {
    const counted = opts.counted ?? true;
    const previous = this.tails.get(key) ?? Promise.resolve();
    if (counted) this.depths.set(key, this.depth(key) + 1);
    const result = previous.then(task);
    // Settled before anyone awaiting `result` resumes, so they see the depth without this task.
    const done = () => {
      if (counted) {
        const left = this.depth(key) - 1;
        if (left === 0) this.depths.delete(key);
        else this.depths.set(key, left);
      }
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
    const tail = result.then(done, done);
    this.tails.set(key, tail);
    return result;
  }
}
