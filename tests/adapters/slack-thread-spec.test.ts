import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { THREAD_MAX_MESSAGES } from '../../src/core/flows/thread-spec.ts';
import type { FakeSlack } from '../fakes/slack/web-api.ts';
import { APP, CHANNEL, SlackHarness, sent } from '../support/slack-harness.ts';

// The thread is the spec, on Slack: a refinement carries the thread's earlier human messages
// (read back with conversations.replies), and a `/vibe` in an ordinary thread builds from it.

let h: SlackHarness;
let fake: FakeSlack;

beforeEach(async () => {
  h = await new SlackHarness().open({
    users: [
      { id: 'U0USER', name: 'alice' },
      { id: 'U0ANA', name: 'ana' },
      { id: 'U0BOB', name: 'bob' },
    ],
  });
  fake = h.fake;
  await h.start();
});

afterEach(async () => {
  await h.close();
});

describe('a refinement carries the thread', () => {
  it("the thread's human messages since the last version, before the reply that asks, each with its author", async () => {
    const { ts, appId } = await h.create('a pomodoro timer', 'Focus Timer');
    h.model.script({ files: APP('Green Timer') });
    await h.say('U0ANA', 'use our brand green', { thread_ts: ts }); // becomes v2: before the last version
    await h.settled();
    h.model.script({ error: new Error('the model is down') });
    await h.say('U0BOB', 'make the header huge', { thread_ts: ts }); // fails: no version
    await h.settled();
    await h.say('U0HELPER', 'beep: deploy finished', { thread_ts: ts, bot_id: 'B0HELPER' }); // another bot
    h.model.script({ files: APP('Huge Green Timer') });
    await h.say('U0ANA', 'do what bob said above, keep it green', { thread_ts: ts });
    await h.settled();

    expect((await h.store.getApp(appId))?.latestVersion).toBe(3);
    const refines = h.model.calls.filter((c) => c.kind === 'refine');
    expect(refines.map((c) => c.input)).toEqual([
      'use our brand green',
      'make the header huge',
      'do what bob said above, keep it green',
    ]);
    // The first change saw nothing before it (the create's prompt is the app; the bot's cards are not people).
    expect(refines[0]!.thread).toEqual([]);
    expect(refines[1]!.thread).toEqual([]); // ana's message is v2 now: before the last version
    expect(refines[2]!.thread).toEqual([{ author: 'bob', text: 'make the header huge' }]);
    // Read with the history scope the manifest asks for, from the last version on.
    const reads = fake.callsTo('conversations.replies');
    expect(reads).toHaveLength(3);
    expect(reads.every((r) => !r.error && r.args.ts === ts)).toBe(true);
    expect(Number(reads[2]!.args.oldest)).toBeCloseTo((await h.store.getVersion(appId, 2))!.createdAt / 1000, 3);
  });

  it(`at most the newest ${THREAD_MAX_MESSAGES} messages go with it, oldest dropped first`, async () => {
    const { ts } = await h.create('a timer', 'Focus Timer');
    // People talk in the thread without the bot hearing each (as if it was away): only what Slack keeps.
    for (let i = 1; i <= 25; i++)
      fake.postAsPerson({ channel: CHANNEL, user: i % 2 ? 'U0ANA' : 'U0BOB', text: `idea ${i}`, thread_ts: ts });
    h.model.script({ files: APP('Ideas') });
    await h.say('U0USER', 'do the ideas above', { thread_ts: ts });
    await h.settled();
    const [refine] = h.model.calls.filter((c) => c.kind === 'refine');
    expect(refine!.thread).toHaveLength(THREAD_MAX_MESSAGES);
    expect(refine!.thread![0]).toEqual({ author: 'bob', text: 'idea 6' });
    expect(refine!.thread!.at(-1)).toEqual({ author: 'ana', text: 'idea 25' });
  });

  it('a thread that cannot be read (no history scope) changes the app all the same', async () => {
    await h.close();
    h = await new SlackHarness().open({
      users: [{ id: 'U0USER', name: 'alice' }],
      scopes: ['commands', 'chat:write', 'files:write', 'users:read'],
    });
    await h.start();
    const { ts, appId } = await h.create('a timer', 'Focus Timer');
    h.model.script({ files: APP('Blue') });
    await h.say('U0USER', 'make it blue', { thread_ts: ts });
    await h.settled();
    expect(h.fake.callsTo('conversations.replies').map((c) => c.error)).toEqual(['missing_scope']);
    expect((await h.store.getApp(appId))?.latestVersion).toBe(2);
    expect(h.model.calls.find((c) => c.kind === 'refine')?.thread).toEqual([]);
  });
});

describe('/vibe in an ordinary thread builds from its discussion', () => {
  it('the discussion is the request (people only, with authors); the card is posted in that thread, which becomes the app’s', async () => {
    const root = fake.postAsPerson({ channel: CHANNEL, user: 'U0ANA', text: 'we keep splitting lunch bills by hand' });
    await h.say('U0BOB', 'a small app could do it: total, people, tip', { thread_ts: root.ts });
    await h.say('U0HELPER', 'reminder: lunch at noon', { thread_ts: root.ts, bot_id: 'B0HELPER' });
    await h.say('U0ANA', 'and round up to whole euros', { thread_ts: root.ts });
    await h.settled();
    expect(fake.calls.filter((c) => c.method.startsWith('chat.'))).toEqual([]); // not an app's thread: quiet
    h.model.script({ files: APP('Bill Splitter'), title: 'Bill Splitter', summary: 'Splits a bill' });
    const before = fake.calls.length;
    await h.say('U0USER', '/vibe', { thread_ts: root.ts });
    const live = await fake.waitForCall(
      'chat.update',
      (c) => sent(c).includes('Bill Splitter') && sent(c).includes('apps.test'),
    );
    await h.settled();

    const [generate] = h.model.calls;
    expect(generate).toMatchObject({ kind: 'generate', input: '' });
    expect(generate!.thread).toEqual([
      { author: 'ana', text: 'we keep splitting lunch bills by hand' },
      { author: 'bob', text: 'a small app could do it: total, people, tip' },
      { author: 'ana', text: 'and round up to whole euros' },
    ]);
    // Its status and card are a reply in the discussion, not a new thread.
    const [status] = h.callsAfter(before, 'chat.postMessage');
    expect(status!.args).toMatchObject({ channel: CHANNEL, thread_ts: root.ts });
    const card = fake.messages(CHANNEL).find((m) => m.thread_ts === root.ts && m.user === fake.botUserId)!;
    expect(live.args.ts).toBe(card.ts);
    const thread = `slack:T0FAKE:${CHANNEL}:${root.ts}`;
    const app = (await h.store.appForThread(thread))!;
    expect(app).toMatchObject({ title: 'Bill Splitter', threadId: thread, ownerId: 'slack:T0FAKE:U0USER' });

    // From now on the thread is the app's: a reply changes it.
    h.model.script({ files: APP('Bill Splitter with tip') });
    await h.say('U0BOB', 'add a 10% tip button', { thread_ts: root.ts });
    await h.settled();
    expect((await h.store.getApp(app.id))?.latestVersion).toBe(2);
  });

  it('`/vibe <words>` adds them to the discussion; an empty thread with no words is refused privately', async () => {
    const root = fake.postAsPerson({ channel: CHANNEL, user: 'U0ANA', text: 'dice for our board game night?' });
    h.model.script({ files: APP('Dice'), title: 'Dice' });
    await h.say('U0BOB', '/vibe two dice, big numbers', { thread_ts: root.ts });
    await fake.waitForCall('chat.update', (c) => sent(c).includes('Dice') && sent(c).includes('apps.test'));
    await h.settled();
    expect(h.model.calls[0]).toMatchObject({
      kind: 'generate',
      input: 'two dice, big numbers',
      thread: [{ author: 'ana', text: 'dice for our board game night?' }],
    });

    const quiet = fake.postAsPerson({ channel: CHANNEL, user: 'U0HELPER', text: 'bot topic', bot_id: 'B0HELPER' });
    await h.say('U0BOB', '/vibe', { thread_ts: quiet.ts });
    await fake.waitForCall('chat.postEphemeral', (c) => sent(c).includes('nothing in this thread to build from'));
    expect(h.model.calls).toHaveLength(1);
  });
});
