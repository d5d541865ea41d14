import Anthropic from '@anthropic-ai/sdk';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppRuntime } from '../../src/core/apps/app-runtime.ts';
import type { ChatContext } from '../../src/core/chat/context.ts';
import { BuildSlots } from '../../src/core/limits/build-slots.ts';
import { fairUsePolicies, type FairUseLimits } from '../../src/core/limits/fair-use.ts';
import type {
  Actor,
  AppStore,
  ChangeRequest,
  CodeModel,
  CodeTurn,
  FileMap,
  ProgressListener,
} from '../../src/core/ports/index.ts';
import { UsageMeter } from '../../src/core/limits/usage-meter.ts';
import { AppZipPacker } from '../../src/export/app-zip.ts';
import { ClaudeCodeModel } from '../../src/llm/claude.ts';
import { TEMPLATE_DIR } from '../../src/template.ts';
import { openAppStore } from '../../src/store/open.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic/server.ts';
import { MemorySandbox } from '../support/memory-sandbox.ts';
import { RecordingConversation } from '../support/recording-conversation.ts';
import { ScriptedModel } from '../support/scripted-model.ts';
import { testBot, testRuntime } from '../support/test-bot.ts';
import { ci, reachable } from '../support/needs.ts';
import { uniqueNamespace } from '../store/app-store-contract.ts';

// Fair use through the real core: policies before handlers, the build slots, the meter in the
// store's windowed counters, with the scripted model and in-memory sandboxes.

const APP = (text: string): FileMap => ({
  'src/App.tsx': `export default function App() { return <h1>${text}</h1>; }\n`,
});
const person = (id: string, team = 'T1'): Actor => ({ id: `slack:${team}:${id}`, name: id });

/** The scripted model, counting how many of its turns run at once (and in what order they started). */
class CountingModel implements CodeModel {
  readonly label = 'claude-sonnet-4-6'; // priced, so costs show
  readonly offline = false;
  active = 0;
  maxActive = 0;
  readonly started: string[] = [];
  constructor(
    readonly inner: ScriptedModel,
    private readonly hold: () => Promise<void> = () => new Promise((r) => setTimeout(r, 15)),
  ) {}
  generate(prompt: string, onProgress: ProgressListener, signal?: AbortSignal): Promise<CodeTurn> {
    return this.count(prompt, () => this.inner.generate(prompt, onProgress, signal));
  }
  refine(files: FileMap, change: ChangeRequest, onProgress: ProgressListener, signal?: AbortSignal): Promise<CodeTurn> {
    const what = change.kind === 'change' ? change.instruction : 'fix';
    return this.count(what, () => this.inner.refine(files, change, onProgress, signal));
  }
  private async count(what: string, run: () => Promise<CodeTurn>): Promise<CodeTurn> {
    this.started.push(what);
    this.maxActive = Math.max(this.maxActive, ++this.active);
    try {
      await this.hold();
      return await run();
    } finally {
      this.active--;
    }
  }
}

let store: AppStore;
let runtime: AppRuntime;
let clock: number;

beforeEach(async () => {
  store = await openAppStore('memory://');
  clock = Date.UTC(2026, 11, 2, 10, 30);
});
afterEach(async () => {
  await runtime?.stopAll();
  await store.close();
});

function makeBot(model: CodeModel, limits: FairUseLimits, slots = 4, on = store, packer?: AppZipPacker) {
  runtime = testRuntime({ store: on, sandbox: new MemorySandbox(), maxRunning: 1000 });
  const meter = new UsageMeter(on, { 'claude-sonnet-4-6': { input: 3, output: 15 } }, () => clock);
  return testBot({
    store: on,
    model,
    runtime,
    policies: fairUsePolicies({ store: on, meter, limits }),
    slots: new BuildSlots(slots),
    meter,
    limits: { ...limits, maxConcurrentBuilds: slots },
    ...(packer ? { packer } : {}),
  });
}

const ctx = (conv: RecordingConversation, actor: Actor, threadId?: string): ChatContext => ({
  conv,
  actor,
  channelId: conv.channelId,
  threadId,
});
const live = (conv: RecordingConversation) => conv.cards().filter((c) => c.meta?.state === 'live');
const refusals = (conv: RecordingConversation) => conv.cards('ephemeral').map((c) => c.text ?? '');

describe('fair use', () => {
  it('200 creates from one person: the hourly allowance of builds, never more than 4 model turns at once', async () => {
    const scripted = new ScriptedModel();
    for (let i = 0; i < 200; i++) scripted.script({ files: APP(`n${i}`), title: `App ${i}` });
    const model = new CountingModel(scripted);
    const bot = makeBot(model, { userBuildsPerHour: 20 });
    const conv = new RecordingConversation('slack:T1:C1');
    const alice = person('alice');
    await Promise.all(Array.from({ length: 200 }, (_, i) => bot.command(ctx(conv, alice), `app number ${i}`)));
    await bot.idle();
    expect(live(conv)).toHaveLength(20);
    expect(model.started).toHaveLength(20);
    expect(model.maxActive).toBe(4);
    const refused = refusals(conv);
    expect(refused).toHaveLength(180);
    expect(refused[0]).toMatch(/started 20 builds .* this hour.*You can start more at 11:00 UTC \(in 30 minutes\)/);
    // Waiting builds were told their place in line.
    expect(
      conv
        .cards()
        .some((c) => /Waiting for a free build slot \(4 builds run at once\): number \d+ in line/.test(c.text ?? '')),
    ).toBe(true);
    // The next hour, the allowance is back.
    clock += 30 * 60_000;
    scripted.script({ files: APP('later'), title: 'Later' });
    await bot.command(ctx(conv, alice), 'one more app');
    expect(live(conv)).toHaveLength(21);
  });

  it("a second person's create waiting behind one person's flood starts in the next free slot", async () => {
    const scripted = new ScriptedModel();
    for (let i = 0; i < 21; i++) scripted.script({ files: APP(`n${i}`), title: `App ${i}` });
    let open!: () => void;
    let gate = new Promise<void>((r) => (open = r));
    const model = new CountingModel(scripted, () => gate);
    const bot = makeBot(model, { userBuildsPerHour: 50 }, 4);
    const conv = new RecordingConversation('slack:T1:C1');
    const flood = Array.from({ length: 20 }, (_, i) => bot.command(ctx(conv, person('alice')), `alice app ${i}`));
    await waitFor(() => model.started.length === 4);
    const bobs = bot.command(ctx(conv, person('bob')), 'bob app');
    await waitFor(() => conv.cards().some((c) => c.title?.includes('bob app') && /next in line/.test(c.text ?? '')));
    // One slot frees: bob's build is the one that starts, not alice's fifth.
    open();
    gate = new Promise<void>((r) => (open = r));
    await waitFor(() => model.started.length >= 5);
    expect(model.started[4]).toBe('bob app');
    open();
    const release = setInterval(() => open(), 5);
    try {
      await Promise.all([...flood, bobs]);
    } finally {
      clearInterval(release);
    }
    expect(model.maxActive).toBe(4);
    expect(live(conv)).toHaveLength(21);
  });

  it('the daily token budget refuses the next build once spent, and resets with the day', async () => {
    const scripted = new ScriptedModel();
    scripted.script(
      { files: APP('big'), title: 'Big', outputTokens: 900 },
      { files: APP('second'), title: 'Second', outputTokens: 200 },
    );
    const bot = makeBot(new CountingModel(scripted, async () => undefined), {
      userDailyTokens: 1000,
      userBuildsPerHour: 20,
    });
    const conv = new RecordingConversation('slack:T1:C1');
    const alice = person('alice');
    await bot.command(ctx(conv, alice), 'a big app');
    expect(live(conv)).toHaveLength(1);
    // 900 of 1,000 used: one more build may start (and takes it past the budget)...
    await bot.command(ctx(conv, alice), 'a second app');
    expect(live(conv)).toHaveLength(2);
    // ...then the next is refused, privately, saying when it resets.
    await bot.command(ctx(conv, alice), 'a third app');
    expect(live(conv)).toHaveLength(2);
    expect(refusals(conv).at(-1)).toMatch(
      /You have used 1,100 of 1,000 output tokens today .* until the budget resets at 00:00 UTC \(in 14 hours\)/,
    );
    // Another person in the same channel is not affected.
    scripted.script({ files: APP('bob'), title: 'Bob' });
    await bot.command(ctx(conv, person('bob')), "bob's app");
    expect(live(conv)).toHaveLength(3);
    // Past midnight UTC the budget is whole again.
    clock = Date.UTC(2026, 11, 3, 0, 1);
    scripted.script({ files: APP('next day'), title: 'Next day' });
    await bot.command(ctx(conv, alice), 'a third app');
    expect(live(conv)).toHaveLength(4);
  });

  it('channel and workspace budgets, and apps per channel', async () => {
    const scripted = new ScriptedModel();
    for (let i = 0; i < 7; i++) scripted.script({ files: APP(`n${i}`), title: `App ${i}`, outputTokens: 400 });
    const bot = makeBot(new CountingModel(scripted, async () => undefined), {
      channelDailyTokens: 700,
      teamDailyTokens: 1500,
      channelMaxApps: 5,
    });
    const c1 = new RecordingConversation('slack:T1:C1');
    const c2 = new RecordingConversation('slack:T1:C2');
    await bot.command(ctx(c1, person('a')), 'app one');
    await bot.command(ctx(c1, person('b')), 'app two');
    await bot.command(ctx(c1, person('c')), 'app three');
    expect(live(c1)).toHaveLength(2);
    expect(refusals(c1).at(-1)).toMatch(/This channel has used 800 of 700 output tokens today/);
    await bot.command(ctx(c2, person('a')), 'app four');
    await bot.command(ctx(c2, person('a')), 'app five');
    expect(live(c2)).toHaveLength(2);
    const c4 = new RecordingConversation('slack:T1:C4');
    await bot.command(ctx(c4, person('d')), 'app six');
    expect(refusals(c4).at(-1)).toMatch(/This workspace has used 1,600 of 1,500 output tokens today/);
    // Another workspace has its own budget.
    const other = new RecordingConversation('slack:T2:C1');
    await bot.command(ctx(other, person('e', 'T2')), 'app seven');
    expect(live(other)).toHaveLength(1);

    const small = makeBot(new CountingModel(scripted, async () => undefined), { channelMaxApps: 1 });
    const c3 = new RecordingConversation('slack:T1:C3');
    scripted.script({ files: APP('only'), title: 'Only' });
    await small.command(ctx(c3, person('a')), 'the only app');
    await small.command(ctx(c3, person('a')), 'a second app');
    expect(live(c3)).toHaveLength(1);
    expect(refusals(c3).at(-1)).toMatch(/This channel already holds 1 apps, the most it may/);
  });

  it('exports count toward the hourly build limit, like creates and changes', async () => {
    const scripted = new ScriptedModel();
    scripted.script({ files: APP('v1'), title: 'Export me' }, { files: APP('v2') });
    const bot = makeBot(
      new CountingModel(scripted, async () => undefined),
      { userBuildsPerHour: 3 },
      4,
      store,
      new AppZipPacker(TEMPLATE_DIR),
    );
    const conv = new RecordingConversation('slack:T1:C1');
    const alice = person('alice');
    await bot.command(ctx(conv, alice), 'an app to export');
    const appId = live(conv)[0]!.meta!.appId!;
    const thread = conv.events.find((e) => e.type === 'thread')!.thread!;
    const zips = () => conv.cards('reply').filter((c) => c.file?.name.endsWith('.zip'));
    // Each export runs a build in the app's sandbox: the command and the button both count.
    await bot.command(ctx(conv, alice), `export ${appId}`);
    await bot.action(ctx(conv, alice, thread), 'export', appId);
    expect(zips()).toHaveLength(2);
    expect(refusals(conv)).toEqual([]);
    // Three builds this hour (a create and two exports): the next export, and the next change, are refused.
    await bot.command(ctx(conv, alice), `export ${appId}`);
    await bot.threadMessage(ctx(conv, alice, thread), 'make it v2');
    expect(zips()).toHaveLength(2);
    expect(refusals(conv)).toHaveLength(2);
    for (const r of refusals(conv))
      expect(r).toMatch(/You have started 3 builds \(new apps, changes, remixes and exports\) this hour/);
    expect((await store.getApp(appId))?.latestVersion).toBe(1);
    await bot.command(ctx(conv, alice), 'usage');
    expect(
      conv
        .cards('ephemeral')
        .at(-1)
        ?.fields?.find((f) => f.label === 'Your builds this hour')?.value,
    ).toBe('3 of 3');
    // Someone else's exports are theirs to count.
    await bot.command(ctx(conv, person('bob')), `export ${appId}`);
    expect(zips()).toHaveLength(3);
  });

  it('at most 3 changes wait per app; more get "wait for the current changes"', async () => {
    const scripted = new ScriptedModel();
    scripted.script({ files: APP('v1'), title: 'Queue' });
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let first = true;
    const model = new CountingModel(scripted, () => (first ? ((first = false), Promise.resolve()) : gate));
    const bot = makeBot(model, {});
    const conv = new RecordingConversation('slack:T1:C1');
    const alice = person('alice');
    await bot.command(ctx(conv, alice), 'a queue app');
    const thread = conv.events.find((e) => e.type === 'thread')!.thread!;
    for (let i = 0; i < 4; i++) scripted.script({ files: APP(`v${i + 2}`) });
    const changes = [0, 1, 2, 3].map((i) => bot.threadMessage(ctx(conv, alice, thread), `change ${i}`));
    await waitFor(() => model.started.length === 2); // the first change runs, three wait
    await bot.threadMessage(ctx(conv, alice, thread), 'change 4');
    expect(refusals(conv).at(-1)).toMatch(/already has 3 changes waiting .* wait for the current changes/);
    open();
    await Promise.all(changes);
    expect(live(conv).at(-1)?.meta?.version).toBe(5);
  });

  it('an app is found only from its own workspace: undo from another team is refused and changes nothing', async () => {
    const scripted = new ScriptedModel();
    scripted.script({ files: APP('v1'), title: 'Home' }, { files: APP('v2') });
    const bot = makeBot(new CountingModel(scripted, async () => undefined), {});
    const home = new RecordingConversation('slack:T1:C1');
    const owner = person('owner');
    await bot.command(ctx(home, owner), 'a home app');
    const appId = live(home)[0]!.meta!.appId!;
    const thread = home.events.find((e) => e.type === 'thread')!.thread!;
    await bot.threadMessage(ctx(home, owner, thread), 'make it blue');
    expect((await store.getApp(appId))?.latestVersion).toBe(2);

    // Same user id text, same app id, another workspace; a manager there.
    const elsewhere = new RecordingConversation('slack:T2:C1');
    const intruder: Actor = { id: 'slack:T2:owner', name: 'owner', isManager: true };
    for (const text of [
      `undo ${appId}`,
      `versions ${appId}`,
      `restore 1 ${appId}`,
      `delete ${appId} confirm`,
      `fix ${appId}`,
    ])
      await bot.command(ctx(elsewhere, intruder), text);
    await bot.action(ctx(elsewhere, intruder), 'undo', appId);
    expect(refusals(elsewhere)).toHaveLength(6);
    for (const r of refusals(elsewhere)) expect(r).toBe(`There is no app "${appId}" (it may have been deleted).`);
    expect(elsewhere.cards().filter((c) => c.meta?.state)).toEqual([]);
    const app = await store.getApp(appId);
    expect(app?.latestVersion).toBe(2);
    expect(app?.deleted).toBeFalsy();

    // A manager of the same workspace, but in another channel, is not a manager of this app.
    const sibling = new RecordingConversation('slack:T1:C2');
    await bot.command(ctx(sibling, { id: 'slack:T1:boss', name: 'boss', isManager: true }), `undo ${appId}`);
    expect(refusals(sibling).at(-1)).toMatch(/Only the app's owner .* or a channel manager/);
    expect((await store.getApp(appId))?.latestVersion).toBe(2);
  });

  it('a team outside VIBE_ALLOWED_TEAMS gets one refusal and nothing else', async () => {
    const scripted = new ScriptedModel();
    const model = new CountingModel(scripted, async () => undefined);
    const bot = makeBot(model, { allowedTeams: ['T1', '123456789'] });
    const outside = new RecordingConversation('slack:T9:C1');
    await bot.command(ctx(outside, person('x', 'T9')), 'an app please');
    expect(outside.events.map((e) => e.type)).toEqual(['ephemeral']);
    expect(refusals(outside)[0]).toMatch(/not available in this workspace/);
    await bot.command(ctx(outside, person('x', 'T9')), 'gallery');
    expect(outside.events.map((e) => e.type)).toEqual(['ephemeral', 'ephemeral']);
    expect(model.started).toEqual([]);
    // Allowed teams, and the terminal, are served.
    scripted.script({ files: APP('in'), title: 'Inside' });
    const inside = new RecordingConversation('discord:123456789:C1');
    await bot.command(ctx(inside, { id: 'discord:123456789:u1' }), 'an app please');
    expect(live(inside)).toHaveLength(1);
    const shell = new RecordingConversation('shell:general');
    await bot.command(ctx(shell, { id: 'shell:me' }), 'gallery');
    expect(refusals(shell).join('\n')).not.toMatch(/not available/);
  });

  it('/vibe usage shows the caller’s and the channel’s figures, the limits and an estimated cost', async () => {
    const scripted = new ScriptedModel();
    scripted.script(
      { files: APP('a'), title: 'A', outputTokens: 1200 },
      { files: APP('b'), title: 'B', outputTokens: 300 },
    );
    const bot = makeBot(new CountingModel(scripted, async () => undefined), {
      userBuildsPerHour: 20,
      userDailyTokens: 300_000,
      channelDailyTokens: 1_000_000,
    });
    const conv = new RecordingConversation('slack:T1:C1');
    await bot.command(ctx(conv, person('alice')), 'app a');
    await bot.command(ctx(conv, person('bob')), 'app b');
    await bot.command(ctx(conv, person('alice')), 'usage');
    const card = conv.cards('ephemeral').at(-1)!;
    const field = (label: string) => card.fields?.find((f) => f.label === label)?.value;
    expect(field('Your builds this hour')).toBe('1 of 20');
    // 10 input tokens at $3/M and 1,200 output at $15/M: $0.01803.
    expect(field('Your output tokens today')).toBe('1,200 of 300,000 · about $0.02');
    expect(field("This channel's output tokens today")).toBe('1,500 of 1,000,000 · about $0.02');
    expect(field("This workspace's output tokens today")).toBe('1,500 (no limit) · about $0.02');
    expect(card.text).toMatch(/next reset at 11:00 UTC/);
    // The version list shows what each version cost.
    const appId = live(conv)[0]!.meta!.appId!;
    await bot.command(ctx(conv, person('alice')), `versions ${appId}`);
    expect(conv.cards('ephemeral').at(-1)?.text).toContain('1,210 tokens (1,200 out)');
  });
});

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const redisUp = await reachable(new URL(REDIS_URL).hostname, Number(new URL(REDIS_URL).port || 6379));

describe.runIf(redisUp || ci)('fair use across processes', () => {
  it('counters hold across two bot instances sharing Redis', async () => {
    const namespace = uniqueNamespace('fairuse');
    const a = await openAppStore(REDIS_URL, { namespace });
    const b = await openAppStore(REDIS_URL, { namespace });
    try {
      const scripted = new ScriptedModel();
      for (let i = 0; i < 4; i++) scripted.script({ files: APP(`n${i}`), title: `N${i}`, outputTokens: 100 });
      const model = new CountingModel(scripted, async () => undefined);
      const one = makeBot(model, { userBuildsPerHour: 3, userDailyTokens: 1000 }, 4, a);
      const two = makeBot(model, { userBuildsPerHour: 3, userDailyTokens: 1000 }, 4, b);
      const conv = new RecordingConversation('slack:T1:C1');
      await one.command(ctx(conv, person('alice')), 'app first');
      await two.command(ctx(conv, person('alice')), 'app second');
      await one.command(ctx(conv, person('alice')), 'app third');
      await two.command(ctx(conv, person('alice')), 'app fourth');
      expect(live(conv)).toHaveLength(3);
      expect(refusals(conv).at(-1)).toMatch(/started 3 builds/);
      await two.command(ctx(conv, person('alice')), 'usage');
      const card = conv.cards('ephemeral').at(-1)!;
      expect(card.fields?.find((f) => f.label === 'Your builds this hour')?.value).toBe('3 of 3');
      expect(card.fields?.find((f) => f.label === 'Your output tokens today')?.value).toMatch(/^300 of 1,000/);
    } finally {
      await a.destroyNamespace();
      await a.close();
      await b.close();
    }
  });
});

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('the token budget of one build, through the bot', () => {
  let fake: FakeAnthropic;
  beforeEach(async () => {
    fake = await startFakeAnthropic();
  });
  afterEach(async () => {
    await fake.close();
  });

  it('stops the turn at its budget: an honest failure, no app and no version, and the tokens spent are counted', async () => {
    const view = {
      content: [
        { type: 'tool_use' as const, name: 'str_replace_based_edit_tool', input: { command: 'view', path: 'src' } },
      ],
      usage: { output_tokens: 2_500 },
    };
    fake.script(view, view, view);
    const model = new ClaudeCodeModel({
      client: new Anthropic({ apiKey: 'sk-ant-test', baseURL: fake.url, maxRetries: 0 }),
      model: 'claude-sonnet-4-6',
      systemPrompt: 'Write apps.',
      templateFiles: APP('template'),
      logger: pino({ level: 'silent' }),
      turnMaxOutputTokens: 5_000,
    });
    const bot = makeBot(model, { userDailyTokens: 300_000 });
    const conv = new RecordingConversation('slack:T1:C1');
    await bot.command(ctx(conv, person('alice')), 'an app that never ends');
    const final = conv.cards().at(-1)!;
    expect(final.meta?.state).toBe('failed');
    expect(final.text).toContain("Claude used this request's budget of 5,000 output tokens before it finished");
    expect(fake.requests).toHaveLength(2);
    expect((await store.appsInChannel('slack:T1:C1', 10)).items).toEqual([]);
    await bot.command(ctx(conv, person('alice')), 'usage');
    const usage = conv.cards('ephemeral').at(-1)!;
    expect(usage.fields?.find((f) => f.label === 'Your output tokens today')?.value).toMatch(/^5,000 of 300,000/);
  });
});
