import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDiscord, type RunningDiscord } from '../../adapters/discord/discord-adapter.ts';
import type { VibeBot } from '../../src/core/bot.ts';
import type { AppRuntime } from '../../src/core/apps/app-runtime.ts';
import type { AppStore } from '../../src/core/ports/index.ts';
import { openAppStore } from '../../src/store/open.ts';
import { startFakeDiscord, type FakeDiscord } from '../fakes/discord/server.ts';
import { MemorySandbox } from '../support/memory-sandbox.ts';
import { ScriptedModel } from '../support/scripted-model.ts';
import { testBot, testRuntime } from '../support/test-bot.ts';

// Acks never wait for other work (issue 23), on Discord: under a burst of /vibe interactions
// (the real discord.js client, a fake Discord on loopback), every deferred reply goes out before
// the work of any of them starts. The intake window is widened so that a loaded machine's gaps
// between gateway events do not end the burst; the rule itself is tested on a fake clock.

describe('Discord intake under a burst', () => {
  let fake: FakeDiscord;
  let store: AppStore;
  let runtime: AppRuntime;
  let bot: VibeBot;
  let discord: RunningDiscord | undefined;
  beforeEach(async () => {
    fake = await startFakeDiscord({ interactionCallbackDeadlineMs: 10_000 });
    store = await openAppStore('memory://');
    runtime = testRuntime({ store, sandbox: new MemorySandbox(), linkBase: 'https://apps.test' });
    bot = testBot({ store, model: new ScriptedModel(), runtime });
    discord = await startDiscord({
      bot,
      logger: pino({ level: 'silent' }),
      settings: { token: fake.token, apiUrl: fake.apiUrl },
      intake: { quietMs: 500, maxHoldMs: 20_000 },
    });
  });
  afterEach(async () => {
    await discord?.stop();
    await bot.idle();
    await runtime.stopAll();
    await fake.close();
    await store.close();
  });

  it('defers every interaction of a burst before the work of any of them starts', async () => {
    const started: number[] = [];
    const dispatch = bot.dispatch.bind(bot);
    bot.dispatch = (ctx, cmd) => (started.push(Date.now()), dispatch(ctx, cmd));
    for (let i = 0; i < 20; i++) fake.sendCommand({ subcommand: 'gallery' });
    const callbacks = () => fake.requestsTo('POST', /\/interactions\/\d+\/[^/]+\/callback/);
    while (started.length < 20) await new Promise((r) => setTimeout(r, 50));
    await discord!.idle();
    expect(callbacks()).toHaveLength(20);
    expect(Math.min(...started)).toBeGreaterThanOrEqual(Math.max(...callbacks().map((c) => c.at)));
  });
});
