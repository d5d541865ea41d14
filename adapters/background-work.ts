import type { Logger } from '../src/core/ports/index.ts';

/**
 * How long no request may have arrived before held work starts (see `run`'s `afterIntake`): short
 * enough that a steady stream (even 100 requests a second) rarely holds anything for long, long
 * enough that a burst read by a busy event loop still counts as one.
 */
export const INTAKE_QUIET_MS = 10;
/** The longest a request's work is held back for the others' acks (the platforms' deadline is 3 s). */
export const INTAKE_MAX_HOLD_MS = 3_000;

/** When held work starts (see `run`'s `afterIntake`). */
export interface IntakeRule {
  quietMs: number;
  maxHoldMs: number;
}

/**
 * Work an adapter starts after acknowledging an event (Slack and Discord both give 3 seconds):
 * failures are logged, never thrown into the SDK, and `idle()` resolves once everything started
 * has finished, so shutdown and tests wait for real work instead of sleeping.
 */

export class BackgroundWork {
  private readonly inflight = new Set<Promise<void>>();
  /** When the platform last sent a request (`arrived`). */
  private lastArrival = 0;

  constructor(
    private readonly logger: Pick<Logger, 'error'>,
    private readonly platform: string,
    private readonly intake: IntakeRule = { quietMs: INTAKE_QUIET_MS, maxHoldMs: INTAKE_MAX_HOLD_MS },
  ) {}

  /** A request came in (called for every inbound request, before its acknowledgement). */
  arrived(): void {
    this.lastArrival = Date.now();
  }

  /**
   * Starts `work` now, or with `afterIntake`, once requests have stopped arriving for
   * INTAKE_QUIET_MS (at most INTAKE_MAX_HOLD_MS later): under a burst, every request is
   * acknowledged before the work of any of them competes for the event loop (only for work that
   * comes after its own ack; the platform's 3 s limit is on the ack, not on the work).
   */
  run(what: string, work: () => Promise<void>, opts: { afterIntake?: boolean } = {}): void {
    const started = opts.afterIntake ? this.intakeQuiet().then(work) : work();
    const p: Promise<void> = started
      .catch((err: unknown) => this.logger.error({ err }, `${this.platform}: ${what} failed`))
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /**
   * Resolves once no request has arrived for INTAKE_QUIET_MS, or INTAKE_MAX_HOLD_MS from now (for
   * work whose ack is its own first step, as Discord's deferred reply is: it waits after that).
   */
  async intakeQuiet(): Promise<void> {
    const since = Date.now();
    // At least the I/O already waiting (the acks of requests that came with this one) goes first.
    await new Promise<void>((r) => setImmediate(r));
    for (;;) {
      const now = Date.now();
      const wait = Math.min(this.lastArrival + this.intake.quietMs, since + this.intake.maxHoldMs) - now;
      if (wait <= 0) return;
      await new Promise<void>((r) => setTimeout(r, wait));
    }
  }
}
