import type { TokenUsage } from '../ports/index.ts';

/** US dollars per million tokens, per model (VIBE_PRICES). */
export type PriceTable = Record<string, { input: number; output: number }>;

/** Anthropic's list prices for the models the bot is likely to run (per million tokens). */
export const DEFAULT_PRICES = 'claude-sonnet-4-6=3/15,claude-sonnet-4-5=3/15,claude-opus-4-5=5/25,claude-haiku-4-5=1/5';

/** "model=in/out,model=in/out" -> a table; undefined when malformed (the config says why). */
export function parsePrices(text: string): PriceTable | undefined {
  const table: PriceTable = {};
  for (const entry of text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const m = /^([\w.:-]+)=(\d+(?:\.\d+)?)\/(\d+(?:\.\d+)?)$/.exec(entry);
    if (!m) return undefined;
    table[m[1]!] = { input: Number(m[2]), output: Number(m[3]) };
  }
  return table;
}

/**
 * The estimated cost of `usage` in millionths of a dollar (integers add up exactly in the store's
 * counters). Prompt-cache writes cost 1.25x the input price, reads 0.1x. 0 for a model not in the table.
 */
export function costMicros(usage: TokenUsage, model: string, prices: PriceTable): number {
  const p = prices[model];
  if (!p) return 0;
  const input = usage.inputTokens + usage.cacheWriteTokens * 1.25 + usage.cacheReadTokens * 0.1;
  return Math.round(input * p.input + usage.outputTokens * p.output);
}
