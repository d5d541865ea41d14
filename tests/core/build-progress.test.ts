import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppRuntime } from '../../src/core/apps/app-runtime.ts';
import type { ProgressStep, ProgressStream } from '../../src/core/chat/progress-stream.ts';
import type { AppStore } from '../../src/core/ports/index.ts';
import { openAppStore } from '../../src/store/open.ts';
import { MemorySandbox } from '../support/memory-sandbox.ts';
import { RecordingConversation } from '../support/recording-conversation.ts';
import { ScriptedModel } from '../support/scripted-model.ts';
import { testBot, testRuntime } from '../support/test-bot.ts';

// A build's progress where the platform streams (Slack): steps and narration go to the stream,
// the status message says so once and then carries the final card; a refused stream falls back.

type StreamEvent = { on: string; step?: ProgressStep; text?: string } | { on: string; end: true };

/** A Conversation that can stream; `refuse` makes the stream refuse at its first step. */
class StreamingConversation extends RecordingConversation {
  readonly streamed: StreamEvent[] = [];
  refuse = false;

  stream(threadId: string, onRefused: (err: unknown) => void): ProgressStream {
    let refused = false;
    return {
      step: (step) => {
        if (this.refuse && !refused) {
          refused = true;
          queueMicrotask(() => onRefused(new Error('not_allowed_token_type')));
        }
        if (!refused) this.streamed.push({ on: threadId, step });
      },
      say: (text) => void this.streamed.push({ on: threadId, text }),
      end: async () => void this.streamed.push({ on: threadId, end: true }),
    };
  }
}

const APP = (t: string) => ({ 'src/App.tsx': `export default function App() { return <h1>${t}</h1>; }\n` });
let store: AppStore;
let sandbox: MemorySandbox;
let runtime: AppRuntime;
let model: ScriptedModel;

beforeEach(async () => {
  store = await openAppStore('memory://');
  sandbox = new MemorySandbox();
  model = new ScriptedModel();
  runtime = testRuntime({ store, sandbox });
});
afterEach(async () => {
  await runtime.stopAll();
  await store.close();
});

describe('build progress on a platform that streams', () => {
  it('streams the steps in order into the thread, ends the stream, then the status message gets the final card', async () => {
    const conv = new StreamingConversation('slack:T1:C1');
    const bot = testBot({ store, model, runtime });
    model.script({ files: { ...APP('BROKEN'), 'src/util.ts': 'export {}' }, title: 'T' }, { files: APP('fixed') });
    await bot.command({ conv, actor: { id: 'u1' }, channelId: conv.channelId }, 'a timer');
    const thread = conv.events.find((e) => e.type === 'thread')!.thread!;
    expect(conv.streamed.every((e) => e.on === thread)).toBe(true);
    const all = conv.streamed.flatMap((e) => ('step' in e && e.step ? [`${e.step.id}:${e.step.status}`] : []));
    // The sandbox's step shows only when the code was written before it was up (a race here): checked apart.
    const steps = all.filter((s) => !s.startsWith('sandbox:'));
    if (all.includes('sandbox:in_progress'))
      expect(all.indexOf('sandbox:complete')).toBeLessThan(all.indexOf('check-1:in_progress'));
    expect(steps).toEqual([
      'code:in_progress',
      'code:in_progress', // src/App.tsx
      'code:in_progress', // src/util.ts
      'code:complete',
      'check-1:in_progress',
      'check-1:error', // the check found BROKEN: a repair round
      'repair-1:in_progress',
      'repair-1:in_progress', // the repair's edit
      'repair-1:complete',
      'check-2:in_progress',
      'check-2:complete',
      'browser-2:in_progress',
      'browser-2:complete',
    ]);
    expect(conv.streamed.at(-1)).toEqual({ on: thread, end: true });
    // The status message: queued, "the steps show in this thread" (again with the live view's link
    // once the sandbox is up), then the live card; no stage edits.
    const cards = conv.events.filter((e) => e.id === conv.events[0]!.id && e.card).map((e) => e.card!);
    const status = cards.map((c) => c.text ?? '');
    expect(status).toHaveLength(4);
    expect(status[1]).toMatch(/steps show in this thread/);
    expect(status[2]).toMatch(/steps show in this thread/);
    expect(cards[2]!.links).toEqual([
      {
        label: 'Watch it being built (may show errors until it is checked)',
        url: expect.stringMatching(/\/dev\/$/),
        kind: 'creator',
      },
    ]);
    expect(conv.latest(conv.events[0]!.id!)?.meta?.state).toBe('live');
  });

  it('a stream the workspace refuses falls back to editing the status message with each stage', async () => {
    const conv = new StreamingConversation('slack:T1:C1');
    conv.refuse = true;
    const bot = testBot({ store, model, runtime });
    model.script({ files: APP('ok'), title: 'T' });
    await bot.command({ conv, actor: { id: 'u1' }, channelId: conv.channelId }, 'a timer');
    const texts = conv.events.filter((e) => e.type === 'update').map((e) => e.card!.text ?? '');
    expect(texts.some((t) => /Checking the code/.test(t))).toBe(true);
    expect(conv.latest(conv.events[0]!.id!)?.meta?.state).toBe('live');
  });

  it('a failed build marks the open steps failed', async () => {
    const conv = new StreamingConversation('slack:T1:C1');
    const bot = testBot({ store, model, runtime });
    model.script({ error: new Error('model down') });
    await bot.command({ conv, actor: { id: 'u1' }, channelId: conv.channelId }, 'a timer');
    const last = conv.streamed.filter((e) => 'step' in e).at(-1) as { step: ProgressStep };
    expect(last.step).toMatchObject({ id: 'code', status: 'error' });
    expect(conv.latest(conv.events[0]!.id!)?.meta?.state).toBe('failed');
  });
});
