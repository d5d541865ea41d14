import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildVibeApp, type VibeApp } from '../../src/app.ts';
import { TEMPLATE_DIR } from '../../src/template.ts';
import { loadConfig } from '../../src/config.ts';
import { OfflineSampleModel } from '../../src/llm/offline.ts';
import { loadTemplate } from '../../src/llm/system-prompt.ts';
import { freePort } from '../../src/sandbox/free-port.ts';
import { RecordingConversation } from '../support/recording-conversation.ts';

// Apps outlive their sandboxes and the bot: the link wakes a stopped app from the store, and
// a restarted bot serves the same link from the same store.

const logger = pino({ level: 'silent' });
const opened: VibeApp[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const a of opened.splice(0)) await a.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(dir: string, port: number): Promise<VibeApp> {
  const config = loadConfig({
    VIBE_STORE_URL: `sqlite://${join(dir, 'vibe.sqlite')}`,
    VIBE_APPS_DIR: join(dir, 'apps'),
    VIBE_PORT: String(port),
  });
  const model = new OfflineSampleModel({ delayMs: 0, baseFiles: (await loadTemplate(TEMPLATE_DIR)).templateFiles });
  const app = await buildVibeApp(config, logger, { model });
  opened.push(app);
  return app;
}

describe('app links', () => {
  it('wake a stopped sandbox, and survive a restart of the bot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vibe-wake-'));
    dirs.push(dir);
    const port = await freePort();
    const first = await start(dir, port);
    const conv = new RecordingConversation();
    await first.bot.command({ conv, actor: { id: 'u1' }, channelId: conv.channelId }, 'a calculator');
    const live = conv.cards().find((c) => c.meta?.state === 'live');
    expect(live, JSON.stringify(conv.cards().at(-1))).toBeDefined();
    const { appId, url } = live!.meta!;
    const appModule = async () => (await fetch(`${url}dev/src/App.tsx`)).text(); // the creator's dev view serves the source
    expect(await appModule()).toContain('Calculator');

    await first.runtime.stop(appId!);
    expect(first.runtime.isRunning(appId!)).toBe(false);
    expect(await appModule()).toContain('Calculator'); // the visit woke it
    expect(first.runtime.isRunning(appId!)).toBe(true);

    await first.close();
    opened.splice(opened.indexOf(first), 1);
    const second = await start(dir, port);
    expect(second.publicUrl).toBe(first.publicUrl);
    expect(await appModule()).toContain('Calculator');
    expect((await fetch(`${second.publicUrl}/apps/nosuchapp1/`)).status).toBe(404);
  });
});
