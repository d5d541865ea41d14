import pino from 'pino';
import { AppLinks } from '../../src/core/apps/app-links.ts';
import { AppRuntime } from '../../src/core/apps/app-runtime.ts';
import { VibeBot, type BotDeps } from '../../src/core/bot.ts';
import type { AppStore, CodeModel, RenderChecker, SandboxProvider } from '../../src/core/ports/index.ts';

const quiet = pino({ level: 'silent' });

/** The runtime as app.ts builds it, over a test sandbox; links under `linkBase` (gateway links). */
export function testRuntime(opts: {
  store: AppStore;
  sandbox: SandboxProvider;
  maxRunning?: number;
  idleMs?: number;
  now?: () => number;
  linkBase?: string;
  browser?: RenderChecker;
  warm?: number;
}): AppRuntime {
  return new AppRuntime({
    provider: opts.sandbox,
    store: opts.store,
    logger: quiet,
    idleMs: opts.idleMs ?? 60_000,
    maxRunning: opts.maxRunning ?? 10,
    links: new AppLinks({ base: opts.linkBase ?? 'http://links.test', preferSandboxUrl: false }),
    now: opts.now,
    browser: opts.browser,
    warm: opts.warm,
  });
}

/** The bot as app.ts builds it (no status throttling), over `runtime`; fair-use parts as given. */
export function testBot(
  opts: {
    store: AppStore;
    model: CodeModel;
    runtime: AppRuntime;
    galleryPageSize?: number;
  } & Pick<
    BotDeps,
    'policies' | 'slots' | 'meter' | 'limits' | 'packer' | 'leases' | 'journal' | 'publisher' | 'shared'
  > &
    Partial<Pick<BotDeps, 'logger'>>,
): VibeBot {
  return new VibeBot({
    logger: quiet,
    statusIntervalMs: 0,
    ...opts,
  });
}
