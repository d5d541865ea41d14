import type Anthropic from '@anthropic-ai/sdk';
import { UserError } from '../core/errors.ts';
import type { Logger } from '../core/ports/index.ts';
import type { ModelImage } from '../core/ports/images.ts';
import type {
  ChangeRequest,
  CodeModel,
  CodeTurn,
  FileMap,
  ProgressListener,
  ThreadMessage,
} from '../core/ports/index.ts';
import { changeMessage } from './change-message.ts';
import type { ThinkingMode } from './model-check.ts';
import {
  outputBudget,
  runTurn,
  type ConversationDeps,
  type ConversationState,
  type TurnResult,
  type UserContent,
} from './conversation.ts';
import { repairMessage } from './repair-message.ts';
import { DEFAULT_MODEL } from './default-model.ts';
import { discussionRequest, earlierMessages } from './thread-text.ts';

export interface ClaudeCodeModelOptions {
  /** Built by the caller (apiKey, baseURL, maxRetries): the SDK's retries and backoff apply. */
  client: Anthropic;
  model?: string;
  systemPrompt: string;
  /** The template's `src/` files: where every new app starts. */
  templateFiles: FileMap;
  logger: Logger;
  maxTokens?: number;
  /** Requests per turn before giving up (a model stuck in an edit loop). */
  maxToolRounds?: number;
  /** Output tokens one generate/refine may spend over all its tool and repair rounds. Default 60,000. */
  turnMaxOutputTokens?: number;
  /** Extended thinking (default adaptive); the start-up check picks what the model takes. */
  thinking?: ThinkingMode;
  /** False when the model takes no pictures (the Models API says so): a request with one is refused. */
  readsImages?: boolean;
}

const DEFAULT_TURN_MAX_OUTPUT_TOKENS = 60_000;

/** Claude writing and editing an app's files through Anthropic's text editor tool. */
export class ClaudeCodeModel implements CodeModel {
  readonly label: string;
  readonly offline = false;

  constructor(private readonly opts: ClaudeCodeModelOptions) {
    this.label = opts.model ?? DEFAULT_MODEL;
  }

  async generate(
    prompt: string,
    onProgress: ProgressListener,
    signal?: AbortSignal,
    thread?: ThreadMessage[],
    images?: readonly ModelImage[],
  ): Promise<CodeTurn> {
    this.checkImages(images);
    const start: ConversationState = { messages: [], files: { ...this.opts.templateFiles } };
    const request = thread?.length ? discussionRequest(thread, prompt) : prompt;
    const title = titleFromPrompt(prompt || thread?.at(-1)?.text || '');
    return this.turn(this.deps(signal), start, request, onProgress, title, images);
  }

  async refine(
    files: FileMap,
    change: ChangeRequest,
    onProgress: ProgressListener,
    signal?: AbortSignal,
    thread?: ThreadMessage[],
    images?: readonly ModelImage[],
  ): Promise<CodeTurn> {
    this.checkImages(images);
    const content = changeMessage(describeFiles(files), change, thread?.length ? earlierMessages(thread) : undefined);
    return this.turn(this.deps(signal), { messages: [], files: { ...files } }, content, onProgress, undefined, images);
  }
  private checkImages(images: readonly ModelImage[] | undefined): void {
    if (images?.length && this.opts.readsImages === false)
      throw new UserError(`${this.label} cannot read pictures. Nothing was built: describe it in words instead.`);
  }

  /** Called once per generate/refine: the deps its repairs reuse, with a fresh output budget. */
  private deps(signal: AbortSignal | undefined): ConversationDeps {
    return {
      client: this.opts.client,
      model: this.label,
      systemPrompt: this.opts.systemPrompt,
      maxTokens: this.opts.maxTokens ?? 16_000,
      maxToolRounds: this.opts.maxToolRounds ?? 25,
      thinking: this.opts.thinking ?? 'adaptive',
      budget: outputBudget(this.opts.turnMaxOutputTokens ?? DEFAULT_TURN_MAX_OUTPUT_TOKENS),
      logger: this.opts.logger,
      ...(signal ? { signal } : {}),
    };
  }

  private async turn(
    deps: ConversationDeps,
    start: ConversationState,
    userText: UserContent,
    onProgress: ProgressListener,
    /** Set on create, where the app must be named: used only if Claude never calls set_app_info. */
    fallbackTitle?: string,
    images?: readonly ModelImage[],
  ): Promise<CodeTurn> {
    const result = await runTurn(deps, start, userText, onProgress, {
      requireAppInfo: fallbackTitle !== undefined,
      ...(images ? { images } : {}),
    });
    if (fallbackTitle !== undefined && !result.state.title) {
      deps.logger.warn({ model: deps.model }, 'Claude did not call set_app_info; the title falls back to the prompt');
      return this.toCodeTurn(deps, { ...result, state: { ...result.state, title: fallbackTitle } });
    }
    return this.toCodeTurn(deps, result);
  }

  private toCodeTurn(deps: ConversationDeps, result: TurnResult): CodeTurn {
    const { state } = result;
    return {
      files: state.files,
      ...(state.title !== undefined ? { title: state.title } : {}),
      ...(state.summary !== undefined ? { summary: state.summary } : {}),
      ...(result.message !== undefined ? { message: result.message } : {}),
      usage: result.usage,
      repair: async (errors, onProgress) =>
        this.toCodeTurn(deps, await runTurn(deps, state, repairMessage(errors), onProgress, { requireAppInfo: false })),
    };
  }
}

/** Last resort when Claude never named the app: the prompt's first words, so the gallery is never blank. */
export function titleFromPrompt(prompt: string): string {
  const words = prompt.replace(/\s+/g, ' ').trim().split(' ').slice(0, 5).join(' ');
  const short = words.length > 40 ? `${words.slice(0, 39)}…` : words;
  return short ? short.charAt(0).toUpperCase() + short.slice(1) : 'Untitled app';
}

/** Files inlined up to this many bytes: saves the model a `view` round trip per file it edits. */
const INLINE_FILES_BYTES = 48_000;

/** The app's files for a refine message: their text when small, else a listing to `view` from. */
export function describeFiles(files: FileMap): string {
  const paths = Object.keys(files).sort();
  const total = paths.reduce((n, p) => n + Buffer.byteLength(files[p] ?? '', 'utf8'), 0);
  if (total <= INLINE_FILES_BYTES) {
    const blocks = paths.map((p) => `<file path="${p}">\n${files[p] ?? ''}\n</file>`);
    return `The app's current files:\n${blocks.join('\n')}`;
  }
  const listing = paths.map((p) => `- ${p} (${Buffer.byteLength(files[p] ?? '', 'utf8')} bytes)`).join('\n');
  return `The app's current files (use \`view\` to read one before you edit it):\n${listing}`;
}
