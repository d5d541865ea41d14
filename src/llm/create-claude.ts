import Anthropic from '@anthropic-ai/sdk';
import type { Logger } from '../core/ports/index.ts';
import { ClaudeCodeModel } from './claude.ts';
import { checkModel } from './model-check.ts';
import { buildSystemPrompt, loadTemplate } from './system-prompt.ts';

export interface CreateClaudeModelOptions {
  apiKey: string;
  baseURL?: string;
  /** VIBE_MODEL when set; checked against the Models API at start-up (see model-check.ts). */
  model?: string;
  /** The sandbox template folder: its `src/` and `libraries.json` shape the system prompt. */
  templateDir: string;
  logger: Logger;
  /** SDK retries (exponential backoff, honours retry-after) for 429/529/5xx and connection errors. */
  maxRetries?: number;
  maxTokens?: number;
  maxToolRounds?: number;
  /** Output tokens one generate/refine may spend over all its tool and repair rounds. Default 60,000. */
  turnMaxOutputTokens?: number;
}

/**
 * Builds the Anthropic client and the Claude code model from settings (used by main.ts), after
 * the start-up check of the model (a ConfigError when VIBE_MODEL is not available).
 */
export async function createClaudeModel(opts: CreateClaudeModelOptions): Promise<ClaudeCodeModel> {
  const template = await loadTemplate(opts.templateDir);
  const client = new Anthropic({
    apiKey: opts.apiKey,
    ...(opts.baseURL ? { baseURL: opts.baseURL } : {}),
    maxRetries: opts.maxRetries ?? 4,
  });
  const checked = await checkModel({ client, ...(opts.model ? { configured: opts.model } : {}), logger: opts.logger });
  return new ClaudeCodeModel({
    client,
    model: checked.id,
    thinking: checked.thinking,
    readsImages: checked.images,
    systemPrompt: buildSystemPrompt(template),
    templateFiles: template.templateFiles,
    logger: opts.logger,
    ...(opts.maxTokens !== undefined ? { maxTokens: opts.maxTokens } : {}),
    ...(opts.maxToolRounds !== undefined ? { maxToolRounds: opts.maxToolRounds } : {}),
    ...(opts.turnMaxOutputTokens !== undefined ? { turnMaxOutputTokens: opts.turnMaxOutputTokens } : {}),
  });
}
