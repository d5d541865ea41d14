import type { Card } from '../ports/index.ts';

/** One model's tokens in a window: input (cache reads and writes included), output, and of that, thinking. */
export interface ModelTokens {
  model: string;
  input: number;
  output: number;
  thinking: number;
}

/**
 * `/vibe usage`'s card with a line per model the person used today, e.g.
 * "claude-sonnet-4-6: 12,000 in, 3,400 out (900 of it thinking)".
 */
export function withTokensByModel(card: Card, list: ModelTokens[]): Card {
  if (list.length === 0) return card;
  const n = (x: number) => x.toLocaleString('en-US');
  const value = list
    .map((m) => `${m.model}: ${n(m.input)} in, ${n(m.output)} out (${n(m.thinking)} of it thinking)`)
    .join('\n');
  return { ...card, fields: [...(card.fields ?? []), { label: 'Your tokens today by model', value }] };
}
