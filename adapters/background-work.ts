import type { Logger } from '../src/core/ports/index.ts';

/**
 * Work an adapter starts after acknowledging an event (Slack and Discord both give 3 seconds):
 * failures are logged, never thrown into the SDK, and `idle()` resolves once everything started
 * has finished, so shutdown and tests wait for real work instead of sleeping.
 */
export class BackgroundWork {
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly logger: Pick<Logger, 'error'>,
    private readonly platform: string,
  ) {}

  /**
   * Starts `work` now, or with `afterIo`, once the I/O already waiting has been handled (a
   * `setImmediate`): under a burst, the acknowledgements of the requests that arrived with it
   * go out before the work of any of them starts (only for work that comes after its own ack).
   */
  run(what: string, work: () => Promise<void>, opts: { afterIo?: boolean } = {}): void {
    const started = opts.afterIo ? new Promise<void>((r) => setImmediate(r)).then(work) : work();
    const p: Promise<void> = started
      .catch((err: unknown) => this.logger.error({ err }, `${this.platform}: ${what} failed`))
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }
}
