import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BotProcess } from '../support/bot-process.ts';

// Without a working bubblewrap (here: none on PATH), local sandboxes would run model-written
// code with the bot's own rights. A bot many people prompt refuses that; the terminal chat,
// one person on their own machine, goes on with a warning.
describe('local sandboxes without bubblewrap', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vibe-nobwrap-'));
  const bots: BotProcess[] = [];
  afterAll(async () => {
    for (const b of bots) await b.stop(200);
    rmSync(dir, { recursive: true, force: true });
  });
  const env = {
    PATH: join(dir, 'empty-bin'),
    VIBE_STORE_URL: 'memory://',
    VIBE_PORT: '0',
    VIBE_APPS_DIR: join(dir, 'apps'),
    PORT: '0',
  };

  it('refuse to start the bot on Slack, saying why and what to do', async () => {
    const bot = new BotProcess({ ...env, SLACK_BOT_TOKEN: 'xoxb-nobwrap', SLACK_SIGNING_SECRET: 'secret' }, []);
    bots.push(bot);
    const code = await bot.stop(30_000);
    expect(code).toBe(2);
    const said = bot.stderr.join('\n');
    expect(said).toMatch(/will not start: Local sandboxes need bubblewrap/);
    expect(said).toMatch(/apt-get install bubblewrap/);
    expect(said).toMatch(/VIBE_ISOLATION=none/);
    expect(said).not.toContain('xoxb-nobwrap');
  }, 60_000);

  it('keep the terminal chat working', async () => {
    const bot = new BotProcess({ ...env, SLACK_BOT_TOKEN: 'xoxb-nobwrap', SLACK_SIGNING_SECRET: 'secret' }, ['--json']);
    bots.push(bot);
    bot.send('/vibe help');
    const help = await bot.waitFor((e) => e.type === 'ephemeral', { timeoutMs: 30_000 });
    expect(help.card?.text ?? help.card?.title).toBeTruthy();
  }, 60_000);
});
