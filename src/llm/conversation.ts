import type Anthropic from '@anthropic-ai/sdk';
import type {
  ContentBlock,
  ContentBlockParam,
  Message,
  MessageParam,
  TextBlockParam,
  ToolResultBlockParam,
} from '@anthropic-ai/sdk/resources/messages';
import type { ModelImage } from '../core/ports/images.ts';
import type { ThinkingMode } from './model-check.ts';
import { thinkingParams, userContent } from './request-parts.ts';
import type { Logger } from '../core/ports/index.ts';
import { UserError } from '../core/errors.ts';
import type { FileMap, ProgressListener, TokenUsage } from '../core/ports/index.ts';
import { addUsage, zeroUsage } from '../core/limits/usage.ts';
import { toUserError } from './claude-errors.ts';
import { CODE_TOOLS, findTool, type ToolState } from './tools.ts';

/** Everything one code conversation needs from its model; fixed for the conversation's life. */
export interface ConversationDeps {
  client: Anthropic;
  model: string;
  systemPrompt: string;
  /** `max_tokens` of one request (capped further by what is left of `budget`). */
  maxTokens: number;
  maxToolRounds: number;
  /** Extended thinking: adaptive, with a budget, or off (the start-up check chose, see model-check.ts). */
  thinking: ThinkingMode;
  /** Shared by the turn and its repairs; a new generate/refine gets a new one. */
  budget: OutputBudget;
  logger: Logger;
  signal?: AbortSignal;
}

/**
 * The output tokens one turn may spend across its tool rounds and its repair rounds. The one
 * mutable part of a conversation's deps: every request subtracts what it used.
 */
export interface OutputBudget {
  readonly total: number;
  remaining: number;
}

export function outputBudget(total: number): OutputBudget {
  return { total, remaining: total };
}

/**
 * Below this many output tokens left, a request is not sent: it could hardly finish one file
 * edit, so it would almost surely be cut off by max_tokens and only spend more of the budget.
 */
const MIN_USEFUL_OUTPUT_TOKENS = 1_024;

/**
 * A snapshot of a conversation after a turn. Immutable: a repair continues from a snapshot,
 * so calling `repair` twice on the same turn forks instead of interleaving.
 */
export interface ConversationState {
  messages: readonly MessageParam[];
  files: FileMap;
  title?: string;
  summary?: string;
}

export interface TurnResult {
  state: ConversationState;
  /** The model's closing words (trimmed, short). */
  message?: string;
  /** Summed over every request of the turn. */
  usage: TokenUsage;
}

const MAX_MESSAGE_CHARS = 600;
/** Streamed characters between two `{kind:'text'}` progress reports. */
const TEXT_PROGRESS_STEP = 400;

const APP_INFO_NUDGE =
  'Please call set_app_info now with a short title (2-5 words) and a one-line summary for this app.';

/** A user message: text, or text blocks (a refinement's files, and a viewer's report apart from the instruction). */
export type UserContent = string | TextBlockParam[];

/**
 * Sends `userText` and runs the tool loop until Claude ends its turn: each round streams one
 * response, executes every tool call against the files in memory and answers with real tool results.
 */
export async function runTurn(
  deps: ConversationDeps,
  start: ConversationState,
  userText: UserContent,
  onProgress: ProgressListener,
  opts: { requireAppInfo: boolean; images?: readonly ModelImage[] },
): Promise<TurnResult> {
  const messages: MessageParam[] = [...start.messages, { role: 'user', content: userContent(userText, opts.images) }];
  const state: ToolState = {
    files: start.files,
    ...(start.title !== undefined ? { title: start.title } : {}),
    ...(start.summary !== undefined ? { summary: start.summary } : {}),
  };
  let nudged = false;
  const touched = new Set<string>();
  let usage = zeroUsage();
  const streamed = { chars: 0, reported: 0 };

  for (let round = 1; ; round++) {
    if (round > deps.maxToolRounds) {
      throw new UserError(
        `Claude kept working for ${deps.maxToolRounds} rounds without finishing, so I stopped it. Nothing was changed; try a smaller request.`,
      );
    }
    const { budget } = deps;
    // A thinking budget needs room beside it for the answer itself.
    const minUseful = deps.thinking === 'budget' ? 2 * MIN_USEFUL_OUTPUT_TOKENS : MIN_USEFUL_OUTPUT_TOKENS;
    if (budget.remaining < minUseful) {
      deps.logger.info({ round, budget: budget.total, remaining: budget.remaining }, 'turn output budget used up');
      throw new UserError(
        `Claude used this request's budget of ${budget.total.toLocaleString('en-US')} output tokens before it finished, so I stopped it. Nothing was changed; try a smaller request.`,
      );
    }
    const maxTokens = Math.min(deps.maxTokens, budget.remaining);
    const response = await streamOnce(deps, messages, maxTokens, (n) => {
      streamed.chars += n;
      // The first characters prove liveness at once; after that, one report per step.
      if (streamed.reported === 0 || streamed.chars - streamed.reported >= TEXT_PROGRESS_STEP) {
        streamed.reported = streamed.chars;
        onProgress({ kind: 'text', chars: streamed.chars });
      }
    });
    const roundUsage = fromApiUsage(response.usage);
    budget.remaining = Math.max(0, budget.remaining - roundUsage.outputTokens);
    usage = addUsage(usage, roundUsage);
    // Thinking blocks go back exactly as they came (the API checks their signatures).
    messages.push({ role: 'assistant', content: response.content.map(toParam) });
    deps.logger.debug({ round, stop: response.stop_reason, usage: response.usage }, 'claude round');

    const toolUses = response.content.filter((b) => b.type === 'tool_use');
    const said = toolUses.length > 0 ? finalText(response.content) : undefined;
    if (said) onProgress({ kind: 'narration', text: said });
    const results: ToolResultBlockParam[] = [];
    for (const block of toolUses) {
      // With max_tokens the last block may be cut mid-JSON: executing it would write half a file.
      const cutOff = response.stop_reason === 'max_tokens' && block === response.content.at(-1);
      if (cutOff) {
        results.push(
          toolError(
            block.id,
            'Error: your reply hit the output limit, so this call was cut off and not executed. Split large files into smaller files or several edits.',
          ),
        );
        continue;
      }
      const tool = findTool(block.name);
      if (!tool) {
        results.push(
          toolError(
            block.id,
            `Error: unknown tool ${block.name}. Use ${CODE_TOOLS.map((t) => t.definition.name).join(' or ')}.`,
          ),
        );
        continue;
      }
      const r = tool.run(block.input, state);
      results.push({
        type: 'tool_result',
        tool_use_id: block.id,
        content: r.output,
        ...(r.isError ? { is_error: true } : {}),
      });
      if (r.isError)
        deps.logger.debug(
          { tool: block.name, input: summarizeInput(block.input), error: r.output },
          'tool call refused',
        );
      if (r.changed) {
        touched.add(r.changed);
        onProgress({ kind: 'file', path: r.changed, files: [...touched], snapshot: state.files });
      }
    }

    // The request is over once its tool calls have run: its usage is counted now (before any
    // throw below), and whoever watches knows the files it wrote are all there.
    onProgress({ kind: 'usage', usage: roundUsage });
    if (results.length > 0) {
      messages.push({ role: 'user', content: results });
      continue;
    }
    if (response.stop_reason === 'refusal')
      throw new UserError('Claude declined to write this app. Nothing was changed.');
    if (response.stop_reason === 'model_context_window_exceeded') {
      throw new UserError("This app's conversation no longer fits in Claude's context window. Nothing was changed.");
    }
    // Every tool call is answered before the turn can end, so the model always sees its errors.
    if (opts.requireAppInfo && !state.title && !nudged) {
      nudged = true;
      messages.push({ role: 'user', content: APP_INFO_NUDGE });
      continue;
    }
    const message = finalText(response.content);
    return {
      state: { messages, ...state },
      ...(message ? { message } : {}),
      usage,
    };
  }
}

/** One streamed request; reports streamed characters (text and tool input) for liveness. */
async function streamOnce(
  deps: ConversationDeps,
  messages: MessageParam[],
  maxTokens: number,
  onChars: (n: number) => void,
): Promise<Message> {
  const stream = deps.client.messages.stream(
    {
      model: deps.model,
      max_tokens: maxTokens,
      // Tools come before the system prompt, so this one breakpoint caches both, for an hour:
      // builds are minutes apart, and the 5-minute default would lapse between them.
      system: [{ type: 'text', text: deps.systemPrompt, cache_control: { type: 'ephemeral', ttl: '1h' } }],
      ...thinkingParams(deps.thinking, maxTokens),
      tools: CODE_TOOLS.map((t) => t.definition),
      messages: withCacheBreakpoints(messages),
    },
    deps.signal ? { signal: deps.signal } : undefined,
  );
  stream.on('text', (delta) => onChars(delta.length));
  stream.on('inputJson', (partial) => onChars(partial.length));
  try {
    return await stream.finalMessage();
  } catch (err) {
    throw toUserError(err, deps.model);
  }
}

/**
 * Marks the last block of the last two user messages for prompt caching: the newest one writes
 * the cache for the next round, the one before reads what the previous round wrote.
 * Together with the system block that is 3 of the 4 breakpoints the API allows.
 */
export function withCacheBreakpoints(messages: readonly MessageParam[]): MessageParam[] {
  const out = messages.slice();
  let marked = 0;
  for (let i = out.length - 1; i >= 0 && marked < 2; i--) {
    const m = out[i];
    if (!m || m.role !== 'user') continue;
    const blocks: ContentBlockParam[] =
      typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : [...m.content];
    const last = blocks.at(-1);
    if (!last) continue;
    blocks[blocks.length - 1] = { ...last, cache_control: { type: 'ephemeral' } } as ContentBlockParam;
    out[i] = { ...m, content: blocks };
    marked++;
  }
  return out;
}

/** Response blocks as request params, without response-only fields; thinking blocks unchanged. */
function toParam(block: ContentBlock): ContentBlockParam {
  if (block.type === 'text') return { type: 'text', text: block.text } satisfies TextBlockParam;
  if (block.type === 'tool_use') return { type: 'tool_use', id: block.id, name: block.name, input: block.input };
  if (block.type === 'thinking') return { type: 'thinking', thinking: block.thinking, signature: block.signature };
  if (block.type === 'redacted_thinking') return { type: 'redacted_thinking', data: block.data };
  return block as unknown as ContentBlockParam;
}

function toolError(id: string, text: string): ToolResultBlockParam {
  return { type: 'tool_result', tool_use_id: id, content: text, is_error: true };
}

/** The Messages API's usage in our terms. */
function fromApiUsage(u: Message['usage']): TokenUsage {
  return {
    inputTokens: u.input_tokens ?? 0,
    outputTokens: u.output_tokens ?? 0,
    cacheWriteTokens: u.cache_creation_input_tokens ?? 0,
    cacheReadTokens: u.cache_read_input_tokens ?? 0,
    ...(u.output_tokens_details ? { thinkingTokens: u.output_tokens_details.thinking_tokens } : {}),
  };
}

function finalText(content: ContentBlock[]): string | undefined {
  const text = content
    .filter((b) => b.type === 'text')
    .map((b) => b.text)
    .join('\n')
    .trim();
  if (!text) return undefined;
  return text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS - 1)}…` : text;
}

/** A tool input for logs: the command and path, never whole file texts. */
function summarizeInput(input: unknown): unknown {
  if (typeof input !== 'object' || input === null) return input;
  const o = input as Record<string, unknown>;
  return { command: o['command'], path: o['path'] };
}
