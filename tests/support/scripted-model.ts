import { formatCheckError } from '../../src/core/build/check-errors.ts';
import type {
  ChangeRequest,
  CodeModel,
  CodeTurn,
  FileMap,
  ProgressListener,
  ThreadMessage,
  TokenUsage,
} from '../../src/core/ports/index.ts';
import type { ModelImage } from '../../src/core/ports/images.ts';

/**
 * One scripted answer: the files the "model" ends with (or an error to throw). `outputTokens`
 * (default 10, as are its input tokens) scripts an expensive answer.
 */
export type Answer =
  { files: FileMap; title?: string; summary?: string; message?: string; outputTokens?: number } | { error: Error };

const usage = (outputTokens = 10): TokenUsage => ({
  inputTokens: 10,
  outputTokens,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
});

/**
 * A CodeModel test double for core tests (the Claude integration has its own tests against a
 * fake Messages API). Answers come from a queue; every call is recorded.
 */
export class ScriptedModel implements CodeModel {
  readonly label = 'scripted';
  offline = false;
  /** `input`: the prompt, a change's instruction ('' for a fix), or a repair's errors; `change`: what refine was asked; `thread`: the chat thread's messages the request carried. */
  readonly calls: {
    kind: 'generate' | 'refine' | 'repair';
    input: string;
    files?: FileMap;
    change?: ChangeRequest;
    thread?: ThreadMessage[];
    images?: readonly ModelImage[];
  }[] = [];
  private answers: Answer[] = [];
  /** Delay before answering, to let tests observe concurrency. */
  delayMs = 0;
  /** When set, every answer waits for it (a test holds the "model" until it has looked). */
  gate?: Promise<void>;

  script(...answers: Answer[]): this {
    this.answers.push(...answers);
    return this;
  }

  generate(
    prompt: string,
    onProgress: ProgressListener,
    signal?: AbortSignal,
    thread?: ThreadMessage[],
    images?: readonly ModelImage[],
  ): Promise<CodeTurn> {
    this.calls.push({
      kind: 'generate',
      input: prompt,
      ...(thread ? { thread } : {}),
      ...(images?.length ? { images } : {}),
    });
    return this.answer(onProgress, signal);
  }

  refine(
    files: FileMap,
    change: ChangeRequest,
    onProgress: ProgressListener,
    signal?: AbortSignal,
    thread?: ThreadMessage[],
    images?: readonly ModelImage[],
  ): Promise<CodeTurn> {
    this.calls.push({
      kind: 'refine',
      input: change.kind === 'change' ? change.instruction : '',
      files,
      change,
      ...(thread ? { thread } : {}),
      ...(images?.length ? { images } : {}),
    });
    return this.answer(onProgress, signal);
  }

  private async answer(onProgress: ProgressListener, signal?: AbortSignal): Promise<CodeTurn> {
    const a = this.answers.shift();
    if (!a) throw new Error('ScriptedModel: no answer scripted');
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.gate) await this.gate;
    if (signal?.aborted) throw new Error('aborted');
    if ('error' in a) throw a.error;
    const { outputTokens, ...answer } = a;
    const paths = Object.keys(answer.files);
    paths.forEach((p, i) => onProgress({ kind: 'file', path: p, files: paths.slice(0, i + 1) }));
    const used = usage(outputTokens);
    onProgress({ kind: 'usage', usage: used }); // one "request" per answer, reported as it ends
    return {
      ...answer,
      usage: used,
      repair: async (errors, progress) => {
        this.calls.push({ kind: 'repair', input: errors.map(formatCheckError).join('\n') });
        return this.answer(progress);
      },
    };
  }
}
