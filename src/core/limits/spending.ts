import type { TokenUsage } from '../ports/index.ts';
import { addUsage, zeroUsage } from './usage.ts';
import type { Spender, UsageMeter } from './usage-meter.ts';

/**
 * What one build spends, counted request by request as the model reports it (so a build that
 * fails later has still paid), into the shared meter and into this build's own total.
 */
export class Spending {
  total: TokenUsage = zeroUsage();
  private readonly writes = new Set<Promise<void>>();

  constructor(
    private readonly meter: UsageMeter,
    private readonly who: Spender,
    private readonly model: string,
    private readonly onError: (err: unknown) => void,
  ) {}

  add(usage: TokenUsage): void {
    this.total = addUsage(this.total, usage);
    const p = this.meter.spend(this.who, usage, this.model).catch(this.onError);
    this.writes.add(p);
    void p.finally(() => this.writes.delete(p));
  }

  /** The build's tokens per model (one model runs a build; the log line names it). */
  get byModel(): Record<string, TokenUsage> {
    return { [this.model]: this.total };
  }

  get costUsd(): number {
    return this.meter.costUsd(this.total, this.model);
  }

  /** Resolves once every count has reached the store. */
  async settled(): Promise<void> {
    await Promise.all([...this.writes]);
  }
}
