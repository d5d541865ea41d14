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
import { ModalSandboxProvider } from './sandbox/modal.ts';
import { ModalClient } from 'modal';
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
  const modal = config.VIBE_SANDBOX === 'modal';
  const sandbox: SandboxProvider = modal ? modalProvider(config, logger) : new LocalSandboxProvider({ appsDir: config.VIBE_APPS_DIR, templateDir: TEMPLATE_DIR, logger, isolation: config.VIBE_ISOLATION, hide: secretPaths(config) });
  const runtime = new AppRuntime({ provider: sandbox, store, logger, idleMs: config.VIBE_IDLE_TIMEOUT, maxRunning: config.VIBE_MAX_RUNNING });
  if (sandbox.stopOrphans) {
    // Sandboxes that outlived the bot are kept only if the store still says they are the app's.
    await sandbox
      .stopOrphans(async (appId, sandboxId) => {
        const app = await store.getApp(appId);
        return Boolean(app && !app.deleted && app.sandboxId === sandboxId);
      })
      .catch(async (err: unknown) => {
        await store.close();
        throw new Error(`Modal did not answer (${err instanceof Error ? err.message : String(err)}). Check MODAL_TOKEN_ID and MODAL_TOKEN_SECRET, or set VIBE_SANDBOX=local.`);
      });
  }
  const gateway = new AppGateway({
    logger,
    // Local sandboxes are proxied; a Modal sandbox has its own https tunnel, so the link redirects there.
    redirect: modal,
    resolve: async (appId) => {
      // Every asset request comes through here: a running app answers from memory, and the
      // store is read only to wake one (deleting an app stops it first).
      if (!runtime.isRunning(appId)) {
        const app = await store.getApp(appId);
        if (!app || app.deleted || app.latestVersion === 0) return undefined;
      }
      const handle = await runtime.ensure(appId);
      return modal ? handle.url : new URL(handle.url).origin;
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
    // Local: the gateway is the link. Modal: the live tunnel; the gateway link (which wakes the app) when there is none.
    linkFor: (appId, sandboxUrl) => (modal && sandboxUrl ? sandboxUrl : `${publicUrl}/apps/${appId}/`),
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

function modalProvider(config: Config, logger: Logger): ModalSandboxProvider {
  const client = new ModalClient({ tokenId: config.MODAL_TOKEN_ID, tokenSecret: config.MODAL_TOKEN_SECRET });
  return new ModalSandboxProvider({
    client,
    templateDir: TEMPLATE_DIR,
    logger,
    settings: {
      appName: config.VIBE_MODAL_APP,
      imageName: config.VIBE_MODAL_IMAGE,
      timeoutMs: config.VIBE_SANDBOX_TIMEOUT,
      idleTimeoutMs: config.VIBE_IDLE_TIMEOUT,
      cpu: config.VIBE_SANDBOX_CPU,
      memoryMiB: config.VIBE_SANDBOX_MEMORY,
    },
  });
}

async function chooseModel(config: Config, logger: Logger): Promise<CodeModel> {
  if (!config.ANTHROPIC_API_KEY) return new OfflineSampleModel({ baseFiles: (await loadTemplate(TEMPLATE_DIR)).templateFiles });
  return createClaudeModel({ apiKey: config.ANTHROPIC_API_KEY, baseURL: config.ANTHROPIC_BASE_URL, model: config.VIBE_MODEL, templateDir: TEMPLATE_DIR, logger });
}
