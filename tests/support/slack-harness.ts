import { readFileSync } from 'node:fs';
import pino from 'pino';
import { expect } from 'vitest';
import type { IntakeRule } from '../../adapters/background-work.ts';
import { startSlack, type RunningSlack } from '../../adapters/slack/slack-adapter.ts';
import type { AppRuntime } from '../../src/core/apps/app-runtime.ts';
import type { VibeBot } from '../../src/core/bot.ts';
import { fairUsePolicies, type FairUseLimits } from '../../src/core/limits/fair-use.ts';
import type { AppStore } from '../../src/core/ports/index.ts';
import { UsageMeter } from '../../src/core/limits/usage-meter.ts';
import { openAppStore } from '../../src/store/open.ts';
import {
  blockActions,
  commandRequest,
  eventCallback,
  eventRequest,
  interactiveRequest,
  postToBolt,
  slashCommand,
} from '../fakes/slack/requests.ts';
import { startFakeSlack, type FakeSlack, type FakeSlackOptions, type RecordedCall } from '../fakes/slack/web-api.ts';
import { MemorySandbox } from './memory-sandbox.ts';
import { PictureBrowser } from './picture-browser.ts';
import { ScriptedModel } from './scripted-model.ts';
import { testBot, testRuntime } from './test-bot.ts';

export const SECRET = 'test-signing-secret';
export const CHANNEL = 'C0FAKE';
const MANIFEST = JSON.parse(readFileSync(new URL('../../adapters/slack/manifest.json', import.meta.url), 'utf8'));
/** The fake grants exactly what the manifest asks for. */
const SCOPES: string[] = MANIFEST.oauth_config.scopes.bot;
const logger = pino({ level: 'silent' });

export const APP = (t: string) => ({ 'src/App.tsx': `export default function App() { return <h1>${t}</h1>; }\n` });
export const sent = (c: RecordedCall) => JSON.stringify(c.args);

/**
 * The real Bolt app (HTTP mode, signed requests) around the bot as app.ts builds it (the fair-use
 * policies, a stand-in browser that takes screenshots), against the fake Slack with the manifest's
 * scopes. What a person does is a method: a command, a message, a button.
 */
export class SlackHarness {
  fake!: FakeSlack;
  store!: AppStore;
  runtime!: AppRuntime;
  readonly model = new ScriptedModel();
  readonly sandbox = new MemorySandbox();
  readonly browser = new PictureBrowser();
  bot!: VibeBot;
  private slack?: RunningSlack;
  private events = '';

  async open(options: FakeSlackOptions = {}): Promise<this> {
    this.fake = await startFakeSlack({ scopes: SCOPES, ...options });
    this.store = await openAppStore('memory://');
    this.runtime = testRuntime({
      store: this.store,
      sandbox: this.sandbox,
      maxRunning: 200,
      linkBase: 'https://apps.test',
      browser: this.browser,
    });
    this.limits({});
    return this;
  }

  /** The bot with the fair-use policies (tenancy first) under `limits`; call before `start`. */
  limits(limits: FairUseLimits): void {
    const meter = new UsageMeter(this.store, {});
    const policies = fairUsePolicies({ store: this.store, meter, limits });
    this.bot = testBot({ store: this.store, model: this.model, runtime: this.runtime, meter, limits, policies });
  }

  async start(intake?: IntakeRule): Promise<void> {
    this.slack = await startSlack({
      bot: this.bot,
      logger,
      ...(intake ? { intake } : {}),
      settings: { botToken: 'xoxb-test', signingSecret: SECRET, apiUrl: this.fake.url, port: 0 },
    });
    this.events = `http://127.0.0.1:${this.slack.port}/slack/events`;
  }

  async close(): Promise<void> {
    await this.slack?.stop();
    await this.bot?.idle();
    await this.runtime?.stopAll();
    await this.fake?.close();
    await this.store?.close();
  }

  /** Everything the adapter and the bot started has finished. */
  async settled(): Promise<void> {
    await this.slack!.idle();
    await this.bot.idle();
  }

  callsAfter(n: number, method: string): RecordedCall[] {
    return this.fake.calls.slice(n).filter((c) => c.method === method);
  }

  /** Signs and sends an Events API or interactivity payload. */
  async deliver(payload: Record<string, unknown>, kind: 'event' | 'interactive' = 'event'): Promise<void> {
    const req = kind === 'event' ? eventRequest(payload) : interactiveRequest(payload);
    expect((await postToBolt(this.events, SECRET, req)).status).toBe(200);
  }

  async vibe(text: string, user = 'U0USER', extra: { team_id?: string; channel_id?: string } = {}): Promise<void> {
    const response_url = this.fake.responseUrl({ channel: extra.channel_id ?? CHANNEL, user });
    const res = await postToBolt(
      this.events,
      SECRET,
      commandRequest(slashCommand({ text, user_id: user, response_url, ...extra })),
    );
    expect(res.status).toBe(200);
  }

  /** A person writes in a channel or thread: the message is kept (threads read it back) and its event sent. */
  async say(user: string, text: string, where: { channel?: string; thread_ts?: string; bot_id?: string } = {}) {
    const channel = where.channel ?? CHANNEL;
    const thread = where.thread_ts ? { thread_ts: where.thread_ts } : {};
    const bot = where.bot_id ? { bot_id: where.bot_id } : {};
    const message = this.fake.postAsPerson({ channel, user, text, ...thread, ...bot });
    await this.deliver(eventCallback({ event: { channel, user, text, ts: message.ts, ...thread, ...bot } }));
    return message;
  }

  async press(user: string, action: string, value: string, messageTs: string, channel = CHANNEL): Promise<void> {
    await this.deliver(
      blockActions({
        user_id: user,
        channel_id: channel,
        actions: [{ action_id: `vibe:${action}:1`, value }],
        message_ts: messageTs,
        response_url: this.fake.responseUrl({ channel, user }),
      }),
      'interactive',
    );
  }

  /** `/vibe <prompt>` by `user` to the live card; the root ts and the app id. */
  async create(prompt: string, title: string, user = 'U0USER'): Promise<{ ts: string; appId: string }> {
    this.model.script({ files: APP(title), title, summary: `About ${title}` });
    const before = this.fake.calls.length;
    await this.vibe(prompt, user);
    const live = await this.fake.waitForCall(
      'chat.update',
      (c) => this.fake.calls.indexOf(c) >= before && sent(c).includes('apps.test/apps/') && sent(c).includes(title),
    );
    await this.settled();
    return { ts: String(live.args.ts), appId: /apps\.test\/apps\/([a-z0-9]+)\//.exec(sent(live))![1]! };
  }
}
