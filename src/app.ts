import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { AppRuntime } from './core/app-runtime.ts';
import { VibeBot } from './core/bot.ts';
import type { AppStore, CodeModel, SandboxProvider } from './core/ports.ts';
import { createClaudeModel } from './llm/create-claude.ts';
import { OfflineSampleModel } from './llm/offline.ts';
import { loadTemplate } from './llm/system-prompt.ts';
import { AppGateway } from './sandbox/gateway.ts';
import { LocalSandboxProvider } from './sandbox/local.ts';
import { openAppStore, redactUrl } from './store/open.ts';

export const TEMPLATE_DIR = fileURLToPath(new URL('../sandbox-template', import.meta.url));

/** The running bot minus its chat adapters: what main.ts, the tests and the bench all build. */
export interface VibeApp {
  bot: VibeBot;
  store: AppStore;
  model: CodeModel;
  sandbox: SandboxProvider;
  runtime: AppRuntime;
  gateway: AppGateway;
  /** Base of the links the bot posts, e.g. http://127.0.0.1:8787 */
  publicUrl: string;
  close(): Promise<void>;
}

export interface BuildOverrides {
  model?: CodeModel;
  statusIntervalMs?: number;
}

/** Composition root: config -> store, model, sandboxes, gateway -> core. */
export async function buildVibeApp(config: Config, logger: Logger, overrides: BuildOverrides = {}): Promise<VibeApp> {
  const store = await openAppStore(config.VIBE_STORE_URL, { logger });
  const model = overrides.model ?? (await chooseModel(config, logger));
  const sandbox = new LocalSandboxProvider({ appsDir: config.VIBE_APPS_DIR, templateDir: TEMPLATE_DIR, logger, isolation: config.VIBE_ISOLATION, hide: secretPaths(config) });
  const runtime = new AppRuntime({ provider: sandbox, store, logger, idleMs: config.VIBE_IDLE_TIMEOUT, maxRunning: config.VIBE_MAX_RUNNING });
  const gateway = new AppGateway({
    logger,
    resolve: async (appId) => {
      const app = await store.getApp(appId);
      if (!app || app.deleted || app.latestVersion === 0) return undefined;
      return new URL((await runtime.ensure(appId)).url).origin;
    },
  });
  let publicUrl = '';
  try {
    const { port, host } = await gateway.listen(config.VIBE_PORT, config.VIBE_HOST);
    publicUrl = (config.VIBE_PUBLIC_URL ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`).replace(/\/+$/, '');
  } catch (err) {
    await store.close();
    throw err;
  }
  runtime.startSweeper();
  const bot = new VibeBot({
    store,
    model,
    runtime,
    sandbox,
    logger,
    linkFor: (appId) => `${publicUrl}/apps/${appId}/`,
    statusIntervalMs: overrides.statusIntervalMs,
  });
  logger.info({ model: model.label, store: redactUrl(config.VIBE_STORE_URL), links: publicUrl }, model.offline ? 'using the offline sample model (no ANTHROPIC_API_KEY): apps come from built-in samples and cannot be edited' : `using Claude (${model.label})`);
  return {
    bot,
    store,
    model,
    sandbox,
    runtime,
    gateway,
    publicUrl,
    async close() {
      await bot.idle();
      await gateway.close();
      await runtime.stopAll();
      await store.close();
    },
  };
}

/**
 * What a sandbox must not see under bubblewrap: the user's home (tokens in dot-files), the bot's
 * folder (.env, source), every other app's folder and the SQLite store. The template and the
 * app's own folder are mounted back on top.
 */
function secretPaths(config: Config): string[] {
  const paths = [homedir(), process.cwd(), resolve(config.VIBE_APPS_DIR)];
  const sqlite = /^sqlite:\/\/(.+)$/.exec(config.VIBE_STORE_URL)?.[1];
  if (sqlite) paths.push(dirname(resolve(sqlite)));
  return paths.filter((p) => p !== '/');
}

async function chooseModel(config: Config, logger: Logger): Promise<CodeModel> {
  if (!config.ANTHROPIC_API_KEY) return new OfflineSampleModel({ baseFiles: (await loadTemplate(TEMPLATE_DIR)).templateFiles });
  return createClaudeModel({ apiKey: config.ANTHROPIC_API_KEY, baseURL: config.ANTHROPIC_BASE_URL, model: config.VIBE_MODEL, templateDir: TEMPLATE_DIR, logger });
}
