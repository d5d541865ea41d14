import type { ContentBlockParam, TextBlockParam, ThinkingConfigParam } from '@anthropic-ai/sdk/resources/messages';
import type { ModelImage } from '../core/ports/images.ts';
import type { ThinkingMode } from './model-check.ts';

/** The thinking budget of one request in `budget` mode (models without adaptive thinking). */
const THINKING_BUDGET_TOKENS = 8_000;

/**
 * The request's `thinking`: adaptive (the model decides how much), or a budget below
 * `max_tokens`. Nothing else is set beside it: thinking allows no temperature or top_k, and the
 * bot sends no sampling settings at all.
 */
export function thinkingParams(mode: ThinkingMode, maxTokens: number): { thinking?: ThinkingConfigParam } {
  if (mode === 'adaptive') return { thinking: { type: 'adaptive' } };
  if (mode === 'budget')
    return {
      thinking: { type: 'enabled', budget_tokens: Math.max(1024, Math.min(THINKING_BUDGET_TOKENS, maxTokens - 1024)) },
    };
  return {};
}

/** A user message's content: the pictures first (as Anthropic advises), then the text. */
export function userContent(
  content: string | TextBlockParam[],
  images: readonly ModelImage[] = [],
): string | ContentBlockParam[] {
  if (images.length === 0) return content;
  const blocks: TextBlockParam[] = typeof content === 'string' ? [{ type: 'text', text: content }] : [...content];
  const last = blocks.at(-1);
  const note = `(${images.length === 1 ? 'The picture above is' : `The ${images.length} pictures above are`} what the person attached: ${images.map((i) => i.name).join(', ')}.)`;
  if (last) blocks[blocks.length - 1] = { ...last, text: `${last.text}\n\n${note}` };
  return [
    ...images.map((img): ContentBlockParam => ({
      type: 'image',
      source: { type: 'base64', media_type: img.mediaType, data: Buffer.from(img.bytes).toString('base64') },
    })),
    ...blocks,
  ];
}
