import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildVibeApp, type VibeApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { OfflineSampleModel } from '../../src/llm/offline.ts';
import { loadTemplate } from '../../src/llm/system-prompt.ts';
import type { LocalSandboxProvider } from '../../src/sandbox/local.ts';
import { TEMPLATE_DIR } from '../../src/template.ts';
import { eventually } from '../support/eventually.ts';
import { needs } from '../support/needs.ts';
import { RecordingConversation } from '../support/recording-conversation.ts';

// A warm sandbox: booted (isolated) before anyone asks, for an app id picked in advance; the
// next create takes it and its id instead of booting, and another is booted for the one after.

let app: VibeApp | undefined;
let dir: string | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.runIf(needs('bwrap', 'template'))('warm sandboxes, end to end', () => {
  it(
    'a create takes the sandbox booted before it; the next is booted after it, for another id',
    { timeout: 120_000 },
    async () => {
      dir = mkdtempSync(join(tmpdir(), 'vibe-warm-'));
      const booted: { sandboxId: string }[] = [];
      const logger = pino(
        { level: 'info' },
        {
          write: (line: string) => {
            const entry = JSON.parse(line) as { msg?: string; sandboxId?: string };
            if (entry.msg === 'sandbox booted') booted.push({ sandboxId: entry.sandboxId! });
          },
        },
      );
      const config = loadConfig({
        VIBE_STORE_URL: `sqlite://${join(dir, 'vibe.sqlite')}`,
        VIBE_APPS_DIR: join(dir, 'apps'),
        VIBE_PORT: '0',
        VIBE_BROWSER: 'off',
        VIBE_ISOLATION: 'bwrap',
      });
      const model = new OfflineSampleModel({ delayMs: 0, baseFiles: (await loadTemplate(TEMPLATE_DIR)).templateFiles });
      app = await buildVibeApp(config, logger, { model });
      const provider = app.sandbox as LocalSandboxProvider;

      const first = await eventually(() => booted[0], 60_000);
      const warmAppId = first.sandboxId.split('.')[0]!;
      expect(app.runtime.counts()).toEqual({ running: 0, starting: 0, warm: 1 });
      expect(await app.store.getApp(warmAppId)).toBeUndefined(); // nothing is stored for it

      const conv = new RecordingConversation();
      await app.bot.command({ conv, actor: { id: 'u1' }, channelId: conv.channelId }, 'a calculator');
      const live = conv.cards().find((c) => c.meta?.state === 'live');
      expect(live, JSON.stringify(conv.cards().at(-1))).toBeDefined();
      expect(live!.meta!.appId).toBe(warmAppId);
      expect((await app.store.getApp(warmAppId))?.sandboxId).toBe(first.sandboxId); // no boot of its own
      expect(await (await fetch(`${live!.meta!.url}dev/src/App.tsx`)).text()).toContain('Calculator');

      // Once the create is over, another is booted, for an id no app has.
      const second = await eventually(() => booted[1], 60_000);
      expect(second.sandboxId.split('.')[0]).not.toBe(warmAppId);
      await eventually(() => app!.runtime.counts().warm === 1 && app!.runtime.counts().running === 1);
      expect(booted).toHaveLength(2);

      const pids = [provider.pidOf(first.sandboxId)!, provider.pidOf(second.sandboxId)!];
      expect(pids.every(alive)).toBe(true);
      await app.close();
      app = undefined;
      await eventually(() => pids.every((pid) => !alive(pid)));
    },
  );
});
