import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { startSlack, type RunningSlack } from '../../adapters/slack/slack-adapter.ts';
import { AppLeases } from '../../src/core/apps/app-lease.ts';
import type { KeyvAppStore } from '../../src/store/keyv-app-store.ts';
import { openAppStore } from '../../src/store/open.ts';
import { uniqueNamespace } from '../store/app-store-contract.ts';
import { commandRequest, eventCallback, eventRequest, postToBolt, slashCommand } from '../fakes/slack/requests.ts';
import { startFakeSlack, type FakeSlack } from '../fakes/slack/web-api.ts';
import { MemorySandbox } from '../support/memory-sandbox.ts';
import { ci, reachable } from '../support/needs.ts';
import { ScriptedModel } from '../support/scripted-model.ts';
import { testBot, testRuntime } from '../support/test-bot.ts';

// Two bot processes behind one Slack app (HTTP, e.g. a load balancer that retried on the other
// one): the same event delivered to both makes one build, because the dedupe is in the store.

const SECRET = 'instances-secret';
const CHANNEL = 'C0INST';
const logger = pino({ level: 'silent' });
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const { hostname, port } = new URL(REDIS_URL);
const available = await reachable(hostname, Number(port || 6379));
const APP = (t: string) => ({ 'src/App.tsx': `export default function App() { return <h1>${t}</h1>; }\n` });

describe.runIf(available || ci)('Slack deliveries across two bot instances on one Redis', () => {
  const namespace = uniqueNamespace('slack-inst');
  let fake: FakeSlack;
  const stores: KeyvAppStore[] = [];
  const running: RunningSlack[] = [];
  const models: ScriptedModel[] = [];
  afterAll(async () => {
    for (const s of running) await s.stop();
    await fake?.close();
    await stores[0]?.destroyNamespace();
    for (const s of stores) await s.close();
  });

  async function instance() {
    const store = await openAppStore(REDIS_URL, { namespace });
    stores.push(store);
    const model = new ScriptedModel();
    models.push(model);
    const runtime = testRuntime({ store, sandbox: new MemorySandbox() });
    const bot = testBot({ store, model, runtime, leases: new AppLeases(store, logger) });
    const slack = await startSlack({
      bot,
      logger,
      settings: { botToken: 'xoxb-inst', signingSecret: SECRET, apiUrl: fake.url, port: 0 },
    });
    running.push(slack);
    return { bot, store, model, slack, events: `http://127.0.0.1:${slack.port}/slack/events` };
  }

  it(
    'one thread reply delivered to both instances (a retry on the other) makes one change',
    { timeout: 60_000 },
    async () => {
      fake = await startFakeSlack({ users: [{ id: 'U0USER', name: 'alice' }] });
      const [a, b] = [await instance(), await instance()];
      a.model.script({ files: APP('One'), title: 'One' });
      const res = await postToBolt(
        a.events,
        SECRET,
        commandRequest(
          slashCommand({ text: 'an app', channel_id: CHANNEL, response_url: fake.responseUrl({ channel: CHANNEL }) }),
        ),
      );
      expect(res.status).toBe(200);
      const live = await fake.waitForCall(
        'chat.update',
        (c) => JSON.stringify(c.args).includes('/apps/') && !JSON.stringify(c.args).includes('Watch it being built'),
        20_000,
      );
      await a.bot.idle();
      const ts = String(live.args.ts);
      for (const m of models) m.script({ files: APP('Two') });
      const event = eventCallback({ event: { channel: CHANNEL, user: 'U0USER', text: 'make it two', thread_ts: ts } });
      const [first, retried] = await Promise.all([
        postToBolt(a.events, SECRET, eventRequest(event)),
        postToBolt(
          b.events,
          SECRET,
          eventRequest(event, { headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' } }),
        ),
      ]);
      expect([first.status, retried.status]).toEqual([200, 200]);
      for (const x of [a, b]) {
        await x.slack.idle();
        await x.bot.idle();
      }
      const refines = models.flatMap((m) => m.calls.filter((c) => c.kind === 'refine'));
      expect(refines).toHaveLength(1);
      const appId = /\/apps\/([a-z0-9]+)\//.exec(JSON.stringify(live.args))?.[1] ?? '';
      expect((await a.store.getApp(appId))?.latestVersion).toBe(2);
    },
  );
});
