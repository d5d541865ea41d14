import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppLeases } from '../../src/core/apps/app-lease.ts';
import type { AppRuntime } from '../../src/core/apps/app-runtime.ts';
import { BuildJournal } from '../../src/core/apps/build-journal.ts';
import { Publisher } from '../../src/core/apps/publisher.ts';
import type { VibeBot } from '../../src/core/bot.ts';
import type { ChatContext } from '../../src/core/chat/context.ts';
import { fairUsePolicies } from '../../src/core/limits/fair-use.ts';
import { UsageMeter } from '../../src/core/limits/usage-meter.ts';
import type { AppStore, FileMap } from '../../src/core/ports/index.ts';
import { openAppStore } from '../../src/store/open.ts';
import { MemorySandbox } from '../support/memory-sandbox.ts';
import { RecordingConversation } from '../support/recording-conversation.ts';
import { ScriptedModel } from '../support/scripted-model.ts';
import { testBot, testRuntime } from '../support/test-bot.ts';

// One read per request (issue 21): a flow reads the app record once and passes it down; the
// policies, the runtime, the journal, the leases and the publisher take what they need as
// arguments. Counted at the store port: getApp and appForThread, the two reads of a record.

const logger = pino({ level: 'silent' });
const APP = (text: string): FileMap => ({
  'src/App.tsx': `export default function App() { return <h1>${text}</h1>; }\n`,
});

/** A sandbox that hands over a build, so every version is published as in production. */
class PublishingSandbox extends MemorySandbox {
  async lightBuild(): Promise<Map<string, Uint8Array>> {
    return new Map([['index.html', new TextEncoder().encode('<!doctype html><div id="root"></div>')]]);
  }
}

/** `store` with its record reads counted (calls made inside the store itself are not the flow's). */
function counting(store: AppStore): { store: AppStore; reads: () => number; reset: () => void } {
  let reads = 0;
  const counted = new Set<PropertyKey>(['getApp', 'appForThread']);
  const proxy = new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (counted.has(prop)) reads++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, reads: () => reads, reset: () => void (reads = 0) };
}

let raw: AppStore;
let runtime: AppRuntime;
let model: ScriptedModel;
let bot: VibeBot;
let count: ReturnType<typeof counting>;

beforeEach(async () => {
  raw = await openAppStore('memory://');
  count = counting(raw);
  const store = count.store;
  model = new ScriptedModel();
  runtime = testRuntime({ store, sandbox: new PublishingSandbox() });
  const meter = new UsageMeter(store, {});
  // Everything app.ts wires that could read the app: the policies, the journal, the leases, the publisher.
  bot = testBot({
    store,
    model,
    runtime,
    logger,
    meter,
    policies: fairUsePolicies({ store, meter, limits: { channelMaxApps: 50, userBuildsPerHour: 100 } }),
    journal: new BuildJournal(store, logger),
    leases: new AppLeases(store, logger),
    publisher: new Publisher({ store, runtime, logger }),
  });
});
afterEach(async () => {
  await bot.idle();
  await runtime.stopAll();
  await raw.close();
});

const ctx = (conv: RecordingConversation, threadId?: string): ChatContext => ({
  conv,
  actor: { id: 'u:alice', name: 'alice' },
  channelId: conv.channelId,
  ...(threadId ? { threadId } : {}),
});

async function created(conv: RecordingConversation): Promise<{ appId: string; thread: string }> {
  model.script({ files: APP('v1'), title: 'One', summary: 'first' });
  await bot.command(ctx(conv), 'make one');
  const live = conv.cards().find((c) => c.meta?.state === 'live');
  expect(live?.meta?.version).toBe(1);
  return { appId: live!.meta!.appId!, thread: conv.events.find((e) => e.type === 'thread')!.thread! };
}

describe('one read of the app record per request', () => {
  it('a create reads it at most 3 times', async () => {
    const conv = new RecordingConversation();
    count.reset();
    await created(conv);
    expect(count.reads()).toBeLessThanOrEqual(3);
  });

  it('a refinement reads it at most 3 times, with its sandbox running or asleep', async () => {
    const conv = new RecordingConversation();
    const { appId, thread } = await created(conv);
    for (const [n, asleep] of [
      [2, false],
      [3, true],
    ] as const) {
      if (asleep) await runtime.stop(appId);
      model.script({ files: APP(`v${n}`), title: `Title ${n}` });
      count.reset();
      await bot.threadMessage(ctx(conv, thread), `make it v${n}`);
      expect(conv.cards().at(-1)?.meta).toMatchObject({ state: 'live', version: n });
      expect(count.reads()).toBeLessThanOrEqual(3);
    }
    expect((await raw.getApp(appId))?.title).toBe('Title 3');
  });

  it('an undo reads it at most 3 times', async () => {
    const conv = new RecordingConversation();
    const { thread } = await created(conv);
    model.script({ files: APP('v2') });
    await bot.threadMessage(ctx(conv, thread), 'make it v2');
    count.reset();
    await bot.command(ctx(conv, thread), 'undo');
    expect(conv.cards().at(-1)?.meta).toMatchObject({ state: 'live', version: 3 });
    expect(count.reads()).toBeLessThanOrEqual(3);
  });
});
