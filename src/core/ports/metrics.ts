import type { TokenUsage } from './model.ts';

/**
 * What the bot reports for monitoring, as it happens (Prometheus in production, see
 * src/metrics/; nothing when unset). Gauges (sandboxes, slots) are read at scrape time instead.
 */
export interface BotMetrics {
  buildFinished(kind: 'create' | 'refine', outcome: 'live' | 'failed' | 'error', seconds: number): void;
  checkFinished(check: 'typecheck' | 'browser', seconds: number): void;
  tokensUsed(usage: TokenUsage): void;
}
