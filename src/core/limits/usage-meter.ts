import { workspaceOf } from '../ids.ts';
import type { AppStore, TokenUsage } from '../ports/index.ts';
import type { ModelTokens } from '../chat/model-tokens.ts';
import { costMicros, type PriceTable } from './prices.ts';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** Who spends: the person, the channel and the workspace (Slack team, Discord server). */
export interface Spender {
  userId: string;
  channelId: string;
}

/** What one person, channel and workspace used in the current windows. */
export interface UsageSnapshot {
  userBuildsThisHour: number;
  userTokensToday: number;
  userCostToday: number;
  channelTokensToday: number;
  channelCostToday: number;
  teamTokensToday: number;
  teamCostToday: number;
  /** The person's tokens today per model (thinking included in output), models with none left out. */
  userByModel: ModelTokens[];
}

/**
 * Counts builds and spending in the store's windowed counters, so every bot process on one store
 * shares one budget. Windows are fixed and aligned to the clock in UTC: builds per clock hour,
 * tokens and cost per UTC day; each resets at its window's end (`resetsAt`).
 */
export class UsageMeter {
  constructor(
    private readonly store: AppStore,
    private readonly prices: PriceTable,
    readonly now: () => number = Date.now,
  ) {}

  /** The estimated cost of `usage` on `model`, in dollars (0 for a model without a price). */
  costUsd(usage: TokenUsage, model: string): number {
    return costMicros(usage, model, this.prices) / 1e6;
  }

  /** Counts one build for the person; returns their builds in this hour, this one included. */
  async countBuild(userId: string): Promise<number> {
    const [n] = await this.store.tally([this.key('builds', 'user', userId, HOUR_MS)], 1, this.left(HOUR_MS));
    return n ?? 0;
  }

  /** Takes back a build counted by `countBuild` that was then refused. */
  async uncountBuild(userId: string): Promise<void> {
    await this.store.tally([this.key('builds', 'user', userId, HOUR_MS)], -1, this.left(HOUR_MS));
  }

  /** Adds what one model request used to the person's, the channel's and the workspace's day. */
  async spend(who: Spender, usage: TokenUsage, model: string): Promise<void> {
    const cost = costMicros(usage, model, this.prices);
    const window = this.left(DAY_MS);
    const scopes = this.scopes(who);
    await Promise.all([
      usage.outputTokens > 0
        ? this.store.tally(
            scopes.map(([kind, id]) => this.key('out', kind, id, DAY_MS)),
            usage.outputTokens,
            window,
          )
        : undefined,
      cost > 0
        ? this.store.tally(
            scopes.map(([kind, id]) => this.key('cost', kind, id, DAY_MS)),
            cost,
            window,
          )
        : undefined,
      this.spendByModel(who.userId, usage, model, window),
    ]);
  }

  /** The person's tokens per model: three counters (in, out, thinking), each added on its own. */
  private async spendByModel(userId: string, usage: TokenUsage, model: string, window: number): Promise<void> {
    const input = usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
    const parts: [string, number][] = [
      ['min', input],
      ['mout', usage.outputTokens],
      ['mthink', usage.thinkingTokens ?? 0],
    ];
    await Promise.all(
      parts
        .filter(([, n]) => n > 0)
        .map(([what, n]) => this.store.tally([this.key(what, 'user', `${model}:${userId}`, DAY_MS)], n, window)),
    );
  }

  /** What the person, channel and workspace used; `models`: whose tokens to show per model (priced ones too). */
  async snapshot(who: Spender, models: string[] = []): Promise<UsageSnapshot> {
    const names = [...new Set([...models, ...Object.keys(this.prices)])];
    const [builds = 0, ut = 0, uc = 0, ct = 0, cc = 0, tt = 0, tc = 0, ...perModel] = await this.store.tallies([
      this.key('builds', 'user', who.userId, HOUR_MS),
      ...this.scopes(who).flatMap(([kind, id]) => [
        this.key('out', kind, id, DAY_MS),
        this.key('cost', kind, id, DAY_MS),
      ]),
      ...names.flatMap((m) => ['min', 'mout', 'mthink'].map((w) => this.key(w, 'user', `${m}:${who.userId}`, DAY_MS))),
    ]);
    const userByModel = names
      .map((model, i) => ({
        model,
        input: perModel[3 * i] ?? 0,
        output: perModel[3 * i + 1] ?? 0,
        thinking: perModel[3 * i + 2] ?? 0,
      }))
      .filter((m) => m.input + m.output > 0);
    return {
      userBuildsThisHour: builds,
      userTokensToday: ut,
      userCostToday: uc / 1e6,
      channelTokensToday: ct,
      channelCostToday: cc / 1e6,
      teamTokensToday: tt,
      teamCostToday: tc / 1e6,
      userByModel,
    };
  }

  /** When the current window of this length ends (epoch ms). */
  resetsAt(windowMs: number): number {
    return (Math.floor(this.now() / windowMs) + 1) * windowMs;
  }

  private scopes(who: Spender): [string, string][] {
    return [
      ['user', who.userId],
      ['chan', who.channelId],
      ['team', workspaceOf(who.channelId)],
    ];
  }

  /** One counter per window: the window's number is in the key, so a new window starts at 0. */
  private key(what: string, kind: string, id: string, windowMs: number): string {
    return `${what}:${kind}:${windowMs === HOUR_MS ? 'h' : 'd'}${Math.floor(this.now() / windowMs)}:${id}`;
  }

  /** The counter lives until its window ends (plus a minute, so a read at the edge still finds it). */
  private left(windowMs: number): number {
    return this.resetsAt(windowMs) - this.now() + 60_000;
  }
}
