import type { Card, Conversation, MessageRef } from '../ports/index.ts';

/**
 * One status message edited in place. Progress edits go at most once per `minIntervalMs`
 * (states that arrive faster are coalesced, the newest wins); `finish` goes out at once, never
 * held back by that limit (it carries the live link), and always lands last.
 */
export class StatusMessage {
  private lastEdit = 0;
  private pending?: Card;
  private timer?: NodeJS.Timeout;
  private chain: Promise<void> = Promise.resolve();
  private done = false;

  private readonly minIntervalMs: number;
  private readonly now: () => number;
  private readonly onError: (err: unknown) => void;

  constructor(
    private readonly conv: Conversation,
    readonly ref: MessageRef,
    opts: { minIntervalMs?: number; now?: () => number; onError?: (err: unknown) => void } = {},
  ) {
    this.minIntervalMs = opts.minIntervalMs ?? 1000;
    this.now = opts.now ?? Date.now;
    this.onError = opts.onError ?? (() => undefined);
    this.lastEdit = this.now(); // the post itself counts as the first write
  }

  /** Shows `card` as soon as the rate limit allows; replaces any card still waiting. */
  set(card: Card): void {
    if (this.done) return;
    if (this.minIntervalMs === 0) return this.enqueue(card); // unthrottled: every state is an edit
    this.pending = card;
    if (this.timer) return;
    const wait = Math.max(0, this.lastEdit + this.minIntervalMs - this.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const next = this.pending;
      this.pending = undefined;
      if (next && !this.done) this.enqueue(next);
    }, wait);
  }

  /**
   * The last word: drops anything pending and edits once more, at once (after an edit still in
   * flight). One edit past the interval is within every platform's rate limits.
   */
  async finish(card: Card): Promise<void> {
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
    this.enqueue(card);
    await this.chain;
  }

  private enqueue(card: Card): void {
    this.chain = this.chain
      .then(async () => {
        this.lastEdit = this.now();
        await this.conv.update(this.ref, card);
      })
      .catch((err: unknown) => this.onError(err)); // a failed edit is logged; it must not break the request
  }
}
