import type { TokenUsage } from '../ports/index.ts';

/** No tokens (undo, restore: no model ran). */
export function zeroUsage(): TokenUsage {
  return { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
}

/** The sum of two usages (a turn and its repair rounds, the rounds of one turn). */
export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
    ...(a.thinkingTokens !== undefined || b.thinkingTokens !== undefined
      ? { thinkingTokens: (a.thinkingTokens ?? 0) + (b.thinkingTokens ?? 0) }
      : {}),
  };
}
