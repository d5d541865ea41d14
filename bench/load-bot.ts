// One bot instance for `npm run bench:load`: the core as src/app.ts composes it (runtime, bot,
// build slots, fair use, leases, journal, publisher), over an in-memory sandbox provider and a
// model with a fixed latency, and the real Slack adapter in HTTP mode (Bolt's receiver).
import type { Config } from '../src/config.ts';
import { startSlack, type RunningSlack } from '../adapters/slack/slack-adapter.ts';
import { AppLeases } from '../src/core/apps/app-lease.ts';
import { AppLinks } from '../src/core/apps/app-links.ts';
import { AppRuntime } from '../src/core/apps/app-runtime.ts';
import { VibeBot } from '../src/core/bot.ts';
import { BuildJournal } from '../src/core/apps/build-journal.ts';
import { BuildSlots } from '../src/core/limits/build-slots.ts';
import { fairUsePolicies } from '../src/core/limits/fair-use.ts';
import { fairUseLimits } from '../src/app-settings.ts';
import type {
  ChangeRequest,
  CodeModel,
  CodeTurn,
  FileMap,
  Logger,
  ProgressListener,
  TokenUsage,
} from '../src/core/ports/index.ts';
import { Publisher } from '../src/core/apps/publisher.ts';
import { UsageMeter } from '../src/core/limits/usage-meter.ts';
import { openAppStore } from '../src/store/open.ts';
import { MemorySandbox } from '../tests/support/memory-sandbox.ts';

/** As src/app.ts: how often a process looks for builds a dead process left behind. */
const RECOVER_EVERY_MS = 10_000;

/** What a load request's app is called: the model names it after the tag in its prompt. */
export const titleFor = (tag: string) => `Load app ${tag}`;
/** The tag in a load request's prompt (see load.ts). */
const TAG = /\[(load-[a-z0-9-]+)\]/;

/**
 * A CodeModel that answers every turn after a fixed delay with a small valid app (the template's
 * files plus an App.tsx), named after the prompt's tag, reporting one request's usage as Claude does.
 */
export class FixedLatencyModel implements CodeModel {
  readonly label = 'load-fixed-latency';
  readonly offline = false;
  answers = 0;

  constructor(
    private readonly delayMs: number,
    private readonly baseFiles: FileMap,
  ) {}

  generate(prompt: string, onProgress: ProgressListener, signal?: AbortSignal): Promise<CodeTurn> {
    return this.answer(TAG.exec(prompt)?.[1] ?? prompt.slice(0, 40), onProgress, signal);
  }

  refine(
    _files: FileMap,
    change: ChangeRequest,
    onProgress: ProgressListener,
    signal?: AbortSignal,
  ): Promise<CodeTurn> {
    return this.answer(change.kind === 'change' ? change.instruction.slice(0, 40) : 'fix', onProgress, signal);
  }

  private async answer(tag: string, onProgress: ProgressListener, signal?: AbortSignal): Promise<CodeTurn> {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, this.delayMs);
      signal?.addEventListener('abort', () => (clearTimeout(timer), reject(new Error('aborted'))), { once: true });
    });
    this.answers++;
    const files: FileMap = { ...this.baseFiles, 'src/App.tsx': appSource(tag) };
    const paths = Object.keys(files);
    paths.forEach((p, i) => onProgress({ kind: 'file', path: p, files: paths.slice(0, i + 1) }));
    const usage: TokenUsage = { inputTokens: 2_000, outputTokens: 800, cacheReadTokens: 0, cacheWriteTokens: 0 };
    onProgress({ kind: 'usage', usage });
    return {
      files,
      title: titleFor(tag),
      summary: 'A counter made by the load test.',
      usage,
      repair: (_errors, progress) => this.answer(tag, progress),
    };
  }
}

const appSource = (tag: string) => `import { useState } from 'react';

export default function App() {
  const [n, setN] = useState(0);
  return (
    <main className="min-h-screen bg-slate-900 p-8 text-slate-100">
      <h1 className="text-3xl font-bold">${tag}</h1>
      <button className="mt-4 rounded bg-sky-600 px-4 py-2" onClick={() => setN(n + 1)}>Clicked {n} times</button>
      ${'<p className="text-slate-400">A paragraph of filler text so the answer has a realistic length.</p>\n      '.repeat(8)}
    </main>
  );
}
`;

export interface LoadBot {
  /** Bolt's receiver: POST signed requests to http://127.0.0.1:<port>/slack/events */
  port: number;
  bot: VibeBot;
  sandbox: MemorySandbox;
  model: FixedLatencyModel;
  slots: BuildSlots;
  /** Resolves when every request received so far has been handled, to the last status edit. */
  idle(): Promise<void>;
  /** Stops everything this instance started, in order; never throws. */
  close(): Promise<void>;
}

/** Starts one independent bot instance on `config`'s store (its own connection, same namespace). */
export async function startLoadBot(opts: {
  config: Config;
  namespace: string;
  model: FixedLatencyModel;
  logger: Logger;
  slack: { botToken: string; signingSecret: string; apiUrl: string };
  /** False leaves the build journal out (a diagnostic: what it costs); app.ts always has one. */
  journal?: boolean;
}): Promise<LoadBot> {
  const { config, logger, model } = opts;
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const step of closers.splice(0).reverse())
      await step().catch((err: unknown) => logger.error({ err }, 'load bench: a bot instance did not stop cleanly'));
  };
  try {
    const store = await openAppStore(config.VIBE_STORE_URL, { namespace: opts.namespace, logger });
    closers.push(() => store.close());
    const sandbox = new MemorySandbox();
    // No gateway is started (no one opens the apps); links look like the default local ones.
    const links = new AppLinks({
      base: 'http://127.0.0.1:8787',
      preferSandboxUrl: false,
      appOrigin: (id) => `http://${id}.localhost:8787`,
    });
    const runtime = new AppRuntime({
      provider: sandbox,
      store,
      logger,
      idleMs: config.VIBE_IDLE_TIMEOUT,
      maxRunning: config.VIBE_MAX_RUNNING,
      links,
    });
    runtime.startSweeper();
    closers.push(() => runtime.stopAll());
    const limits = fairUseLimits(config); // exactly as app.ts reads them
    const meter = new UsageMeter(store, config.VIBE_PRICES);
    const slots = new BuildSlots(config.VIBE_MAX_CONCURRENT_BUILDS);
    const journal = new BuildJournal(store, logger);
    const publisher = new Publisher({ store, runtime, logger }); // the memory sandbox cannot hand over builds: a no-op
    const bot = new VibeBot({
      store,
      model,
      runtime,
      logger,
      publisher,
      leases: new AppLeases(store, logger),
      ...(opts.journal === false ? {} : { journal }),
      policies: fairUsePolicies({ store, meter, limits }),
      slots,
      meter,
      limits: {
        ...limits,
        maxConcurrentBuilds: config.VIBE_MAX_CONCURRENT_BUILDS,
        turnMaxOutputTokens: config.VIBE_TURN_MAX_OUTPUT_TOKENS,
      },
    });
    if (opts.journal !== false) {
      await journal.start();
      closers.push(() => journal.stop());
    }
    closers.push(() => bot.idle());
    let recovering: Promise<void> = Promise.resolve();
    const recoverer = setInterval(() => {
      recovering = bot
        .recover()
        .then(() => undefined)
        .catch((err: unknown) => logger.warn({ err }, 'recovering the builds of a dead process failed'));
    }, RECOVER_EVERY_MS);
    recoverer.unref();
    closers.push(async () => {
      clearInterval(recoverer);
      await recovering;
    });
    const slack: RunningSlack = await startSlack({
      bot,
      logger,
      settings: {
        botToken: opts.slack.botToken,
        signingSecret: opts.slack.signingSecret,
        apiUrl: opts.slack.apiUrl,
        port: 0,
      },
    });
    closers.push(() => slack.stop());
    return {
      port: slack.port!,
      bot,
      sandbox,
      model,
      slots,
      idle: async () => {
        await slack.idle();
        await bot.idle();
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
