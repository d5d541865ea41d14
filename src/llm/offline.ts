import { UserError } from '../core/errors.ts';
import type {
  ChangeRequest,
  CodeModel,
  CodeTurn,
  FileMap,
  ProgressListener,
  ThreadMessage,
  TokenUsage,
} from '../core/ports/index.ts';
import type { ModelImage } from '../core/ports/images.ts';
import { ALL_SAMPLES, DEFAULT_SAMPLE_ID } from './samples/all-samples.ts';
import { chooseSample } from './samples/choose-sample.ts';
import type { SampleApp } from './samples/sample-app.ts';

export interface OfflineSampleModelOptions {
  /** Pause before each file, so progress looks like a model writing (default 150 ms; 0 in tests). */
  delayMs?: number;
  /** The samples to choose from (default: every built-in sample). */
  samples?: readonly SampleApp[];
  /** The sample used when a prompt matches no keywords (default: the todo list). */
  fallbackId?: string;
  /** The template's `src/` files (main.tsx, index.css…): a sample only holds its own files. */
  baseFiles?: FileMap;
}

const ZERO_USAGE: TokenUsage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };

export const OFFLINE_REFINE_MESSAGE =
  'The offline sample model cannot edit apps: it only serves a few built-in samples. ' +
  'To get real edits, set ANTHROPIC_API_KEY (see README) and restart the bot.';

export const OFFLINE_IMAGE_MESSAGE =
  'The offline sample model cannot read pictures: it only serves a few built-in samples. Nothing was built. ' +
  'Describe the app in words, or set ANTHROPIC_API_KEY (see README) and restart the bot to build from a picture.';

/**
 * The CodeModel used when no ANTHROPIC_API_KEY is set: answers each prompt with the handwritten
 * sample app whose keywords fit it best, so the whole pipeline still runs end to end offline.
 */
export class OfflineSampleModel implements CodeModel {
  readonly label = 'offline sample model';
  readonly offline = true;
  private readonly delayMs: number;
  private readonly samples: readonly SampleApp[];
  private readonly fallbackId: string;
  private readonly baseFiles: FileMap;

  constructor(options: OfflineSampleModelOptions = {}) {
    this.delayMs = options.delayMs ?? 150;
    this.samples = options.samples ?? ALL_SAMPLES;
    this.fallbackId = options.fallbackId ?? DEFAULT_SAMPLE_ID;
    this.baseFiles = options.baseFiles ?? {};
    if (this.samples.length === 0) throw new Error('OfflineSampleModel needs at least one sample');
  }

  /** The sample `generate` would answer `prompt` with. */
  pick(prompt: string): SampleApp {
    return chooseSample(prompt, this.samples, this.fallbackId);
  }

  async generate(
    prompt: string,
    onProgress: ProgressListener,
    signal?: AbortSignal,
    thread?: ThreadMessage[],
    images?: readonly ModelImage[],
  ): Promise<CodeTurn> {
    signal?.throwIfAborted();
    if (images?.length) throw new UserError(OFFLINE_IMAGE_MESSAGE);
    // A discussion picks by everything said in it.
    const sample = this.pick([...(thread ?? []).map((m) => m.text), prompt].join(' '));
    // Helpers first and App.tsx last, the order a model writing the app would use.
    const paths = Object.keys(sample.files).sort((a, b) => Number(a === 'src/App.tsx') - Number(b === 'src/App.tsx'));
    const touched: string[] = [];
    for (const path of paths) {
      await pause(this.delayMs, signal);
      touched.push(path);
      const snapshot = { ...this.baseFiles, ...Object.fromEntries(touched.map((p) => [p, sample.files[p]!])) };
      onProgress({ kind: 'file', path, files: [...touched], snapshot });
    }
    return sampleTurn(sample, this.baseFiles);
  }

  async refine(
    _files: FileMap,
    _change: ChangeRequest,
    _onProgress: ProgressListener,
    signal?: AbortSignal,
    _thread?: ThreadMessage[],
    images?: readonly ModelImage[],
  ): Promise<CodeTurn> {
    signal?.throwIfAborted();
    throw new UserError(images?.length ? OFFLINE_IMAGE_MESSAGE : OFFLINE_REFINE_MESSAGE);
  }
}

function sampleTurn(sample: SampleApp, baseFiles: FileMap): CodeTurn {
  const turn: CodeTurn = {
    // A copy, so a caller editing the map cannot change the sample for later prompts.
    files: { ...baseFiles, ...sample.files },
    title: sample.title,
    summary: sample.summary,
    message:
      `Offline sample model: no ANTHROPIC_API_KEY is set, so this is the built-in "${sample.title}" sample, ` +
      'picked by the words in your prompt rather than written for it. Set ANTHROPIC_API_KEY (see README) for real apps.',
    usage: { ...ZERO_USAGE },
    // The samples are checked to compile (tests/llm/offline.test.ts), so a repair never has anything to fix.
    repair: async () => sampleTurn(sample, baseFiles),
  };
  return turn;
}

/** Waits `ms`, rejecting with the signal's reason as soon as it aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
