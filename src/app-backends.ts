// The model, the sandboxes and the browser check the config picks, made (app.ts wires them).

import type { Config } from './config.ts';
import type { CodeModel, Logger, SandboxProvider } from './core/ports/index.ts';
import { createClaudeModel } from './llm/create-claude.ts';
import { OfflineSampleModel } from './llm/offline.ts';
import { loadTemplate } from './llm/system-prompt.ts';
import { BrowserCheck } from './browser/browser-check.ts';
import { findBrowser } from './browser/find-browser.ts';
import { LocalSandboxProvider } from './sandbox/local.ts';
import { ModalSandboxProvider } from './sandbox/modal.ts';
import { ModalClient } from 'modal';
import { TEMPLATE_DIR } from './template.ts';
import { modalSettings } from './app-settings.ts';

/** Modal's sandboxes when VIBE_SANDBOX=modal, else local processes (VIBE_ISOLATION). */
export function chooseSandbox(config: Config, logger: Logger): SandboxProvider {
  return config.VIBE_SANDBOX === 'modal'
    ? modalProvider(config, logger)
    : new LocalSandboxProvider({
        appsDir: config.VIBE_APPS_DIR,
        templateDir: TEMPLATE_DIR,
        logger,
        isolation: config.VIBE_ISOLATION,
        limits: {
          memoryMiB: config.VIBE_SANDBOX_MEMORY,
          pids: config.VIBE_SANDBOX_PIDS,
          cpuSeconds: config.VIBE_SANDBOX_CPU_SECONDS,
        },
      });
}

/** The browser every new version is opened in before its link is posted (VIBE_BROWSER). */
export function checkBrowser(config: Config, logger: Logger): BrowserCheck | undefined {
  const executablePath = findBrowser(config.VIBE_BROWSER);
  if (!executablePath) {
    if (config.VIBE_BROWSER === 'auto')
      logger.warn(
        {},
        'no Chromium or Chrome found (VIBE_BROWSER=auto): apps are not opened in a browser before their link is posted, and cards say so. Install one (Debian/Ubuntu: apt-get install chromium) or set VIBE_BROWSER to its path.',
      );
    return undefined;
  }
  logger.info({ browser: executablePath }, 'new versions are opened in a browser before their link is posted');
  return new BrowserCheck({
    executablePath,
    logger,
    extraArgs: config.VIBE_BROWSER_ARGS?.split(/\s+/).filter(Boolean),
  });
}

function modalProvider(config: Config, logger: Logger): ModalSandboxProvider {
  const client = new ModalClient({
    tokenId: config.MODAL_TOKEN_ID,
    tokenSecret: config.MODAL_TOKEN_SECRET,
    // A throttled call waits as long as a boot may, not forever (the SDK's default).
    maxThrottleWaitSecs: Math.ceil(config.VIBE_SANDBOX_BOOT_TIMEOUT / 1000),
  });
  return new ModalSandboxProvider({
    client,
    templateDir: TEMPLATE_DIR,
    logger,
    settings: modalSettings(config),
  });
}

/** Claude when there is an ANTHROPIC_API_KEY, else the offline sample model. */
export async function chooseModel(config: Config, logger: Logger): Promise<CodeModel> {
  if (!config.ANTHROPIC_API_KEY)
    return new OfflineSampleModel({ baseFiles: (await loadTemplate(TEMPLATE_DIR)).templateFiles });
  return createClaudeModel({
    apiKey: config.ANTHROPIC_API_KEY,
    baseURL: config.ANTHROPIC_BASE_URL,
    model: config.VIBE_MODEL,
    templateDir: TEMPLATE_DIR,
    logger,
    turnMaxOutputTokens: config.VIBE_TURN_MAX_OUTPUT_TOKENS,
  });
}
