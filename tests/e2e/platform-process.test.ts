import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commandRequest, postToBolt, slashCommand } from '../fakes/slack/requests.ts';
import { startFakeDiscord, type FakeDiscord } from '../fakes/discord/server.ts';
import { startFakeSlack, type FakeSlack } from '../fakes/slack/web-api.ts';
import { BotProcess } from '../support/bot-process.ts';

// `npm start` with Slack or Discord settings runs that adapter (not the terminal) and serves /vibe.

describe('npm start with Slack credentials', () => {
  let fake: FakeSlack | undefined;
  let bot: BotProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'vibe-slack-proc-'));

  afterAll(async () => {
    const code = await bot?.stop(200); // the Slack adapter ignores stdin: SIGTERM ends it
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  it('starts the Slack adapter in HTTP mode and answers /vibe with a live link', async () => {
    fake = await startFakeSlack();
    bot = new BotProcess(
      {
        SLACK_BOT_TOKEN: 'xoxb-proc',
        SLACK_SIGNING_SECRET: 'proc-secret',
        SLACK_API_URL: fake.url,
        PORT: '0',
        VIBE_PORT: '0',
        VIBE_STORE_URL: `sqlite://${join(dir, 'vibe.sqlite')}`,
        VIBE_APPS_DIR: join(dir, 'apps'),
      },
      [],
    );
    const deadline = Date.now() + 30_000;
    let port: string | undefined;
    while (!port && Date.now() < deadline) {
      port = bot.stderr.map((l) => /HTTP mode, :(\d+)\/slack\/events/.exec(l)?.[1]).find(Boolean);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(port, bot.stderr.join('\n')).toBeDefined();
    const res = await postToBolt(
      `http://127.0.0.1:${port}/slack/events`,
      'proc-secret',
      commandRequest(slashCommand({ text: 'a pomodoro timer', response_url: fake.responseUrl() })),
    );
    expect(res.status).toBe(200);
    const live = await fake.waitForCall(
      'chat.update',
      (c) =>
        JSON.stringify(c.args).includes('.localhost:') /* the app's own origin */ &&
        !JSON.stringify(c.args).includes('Watch it being built'),
      90_000,
    );
    expect(JSON.stringify(live.args)).toMatch(/Pomodoro/);
    expect(JSON.stringify(live.args)).toContain('offline sample model');
  });
});

describe('npm start with Discord credentials', () => {
  let fake: FakeDiscord | undefined;
  let bot: BotProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'vibe-discord-proc-'));

  afterAll(async () => {
    const code = await bot?.stop(200);
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  it('connects to the gateway and answers /vibe create with a live link', async () => {
    fake = await startFakeDiscord({ interactionCallbackDeadlineMs: 20_000 });
    bot = new BotProcess(
      {
        DISCORD_TOKEN: fake.token,
        DISCORD_API_URL: fake.apiUrl,
        VIBE_PORT: '0',
        VIBE_STORE_URL: `sqlite://${join(dir, 'vibe.sqlite')}`,
        VIBE_APPS_DIR: join(dir, 'apps'),
      },
      [],
    );
    const deadline = Date.now() + 30_000;
    while (!bot.stderr.some((l) => l.includes('vibe-bot is on Discord')) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(bot.stderr.join('\n')).toContain('vibe-bot is on Discord');
    const sent = fake.sendCommand({ subcommand: 'create', options: { prompt: 'a pomodoro timer' } });
    const live = await fake.waitForRequest(
      'PATCH',
      /messages\/@original$/,
      (r) =>
        r.path.includes(sent.token) &&
        JSON.stringify(r.body).includes('.localhost:') &&
        !JSON.stringify(r.body).includes('Watch it being built'),
      90_000,
    );
    expect(JSON.stringify(live.body)).toMatch(/Pomodoro/);
  });
});
