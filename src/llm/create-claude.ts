import Anthropic from '@anthropic-ai/sdk';
import type { Logger } from '../core/ports.ts';
import { ClaudeCodeModel } from './claude.ts';
import { DEFAULT_MODEL } from './default-model.ts';
import { buildSystemPrompt, loadTemplate } from './system-prompt.ts';

export interface CreateClaudeModelOptions {
  apiKey: string;
  baseURL?: string;
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

/** Builds the Anthropic client and the Claude code model from settings (used by main.ts). */
export async function createClaudeModel(opts: CreateClaudeModelOptions): Promise<ClaudeCodeModel> {
  const template = await loadTemplate(opts.templateDir);
  const client = new Anthropic({
    apiKey: opts.apiKey,
    ...(opts.baseURL ? { baseURL: opts.baseURL } : {}),
    maxRetries: opts.maxRetries ?? 4,
  });
  return new ClaudeCodeModel({
    client,
    model: opts.model ?? DEFAULT_MODEL,
    systemPrompt: buildSystemPrompt(template),
    templateFiles: template.templateFiles,
    logger: opts.logger,
    ...(opts.maxTokens !== undefined ? { maxTokens: opts.maxTokens } : {}),
    ...(opts.maxToolRounds !== undefined ? { maxToolRounds: opts.maxToolRounds } : {}),
    ...(opts.turnMaxOutputTokens !== undefined ? { turnMaxOutputTokens: opts.turnMaxOutputTokens } : {}),
  });
}
