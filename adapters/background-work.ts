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

  run(what: string, work: () => Promise<void>): void {
    const p: Promise<void> = work()
      .catch((err: unknown) => this.logger.error({ err }, `${this.platform}: ${what} failed`))
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }
}
