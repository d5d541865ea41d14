import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appHomeOpenedEvent, eventCallback, linkSharedEvent, viewBlockActions } from '../fakes/slack/requests.ts';
import type { FakeSlack } from '../fakes/slack/web-api.ts';
import { readPng } from '../support/png.ts';
import { APP, CHANNEL, SlackHarness, sent } from '../support/slack-harness.ts';

// Remix, link unfurls and the App Home through the real Bolt app (HTTP mode, signed requests)
// against the fake Slack, with the scopes the manifest asks for.

const OTHER = 'C0OTHER';

let h: SlackHarness;
let fake: FakeSlack;

beforeEach(async () => {
  h = await new SlackHarness().open({
    users: [
      { id: 'U0USER', name: 'alice' },
      { id: 'U0BOB', name: 'bob' },
    ],
    channels: [
      { id: CHANNEL, name: 'general', members: ['U0USER', 'U0BOB'] },
      { id: OTHER, name: 'random', members: ['U0BOB'] },
    ],
  });
  fake = h.fake;
});

afterEach(async () => {
  await h.close();
});

describe('Remix', () => {
  it("makes a second app from the first one's files, in a new thread, owned by whoever pressed it", async () => {
    await h.start();
    const first = await h.create('a pomodoro timer', 'Focus Timer');
    h.model.script({ files: APP('Focus Timer v2') });
    await h.say('U0USER', 'make it blue', { thread_ts: first.ts });
    await h.settled();
    const source = (await h.store.getVersion(first.appId, 2))!;

    const before = fake.calls.length;
    await h.press('U0BOB', 'remix', first.appId, first.ts);
    const card = await fake.waitForCall('chat.update', (c) =>
      sent(c).includes('Remixed from Focus Timer (v2) by alice'),
    );
    await h.settled();

    const [post] = h.callsAfter(before, 'chat.postMessage');
    expect(post!.args.channel).toBe(CHANNEL);
    expect(post!.args.thread_ts).toBeUndefined(); // a new thread: its own root in the channel
    const root = fake.messages(CHANNEL).find((m) => m.ts === card.args.ts)!;
    expect(root).toMatchObject({ user: fake.botUserId });
    expect(root.thread_ts).toBeUndefined();
    const remixId = /apps\.test\/apps\/([a-z0-9]+)\//.exec(sent(card))![1]!;
    expect(remixId).not.toBe(first.appId);
    const remix = (await h.store.getApp(remixId))!;
    expect(remix).toMatchObject({
      ownerId: 'slack:T0FAKE:U0BOB',
      channelId: `slack:T0FAKE:${CHANNEL}`,
      latestVersion: 1,
      title: 'Focus Timer',
      remixOf: { appId: first.appId, version: 2, title: 'Focus Timer', ownerId: 'slack:T0FAKE:U0USER' },
    });
    expect(remix.threadId).toBe(`slack:T0FAKE:${CHANNEL}:${card.args.ts}`);
    expect(remix.threadId).not.toBe(`slack:T0FAKE:${CHANNEL}:${first.ts}`);
    expect((await h.store.appForThread(remix.threadId))?.id).toBe(remixId);
    const copied = (await h.store.getVersion(remixId, 1))!;
    expect(copied.files).toEqual(source.files);
    expect(copied).toMatchObject({ authorId: 'slack:T0FAKE:U0BOB', model: 'none' });
    expect(copied.usage.outputTokens + copied.usage.inputTokens).toBe(0);
    // No model ran for it: one generate (the first app), one refine (its v2).
    expect(h.model.calls.map((c) => c.kind)).toEqual(['generate', 'refine']);
    for (const label of ['Open', 'Undo', 'Remix', 'Delete']) expect(sent(card)).toContain(`"text":"${label}"`);

    // The original is untouched, and its history is its own.
    const original = (await h.store.getApp(first.appId))!;
    expect(original).toMatchObject({ ownerId: 'slack:T0FAKE:U0USER', latestVersion: 2 });
    expect(original.remixOf).toBeUndefined();

    // /vibe versions shows the lineage; changing the remix leaves the original as it was.
    await h.vibe(`versions ${remixId}`, 'U0BOB');
    await fake.waitForCall('response_url', (c) => sent(c).includes('Remixed from Focus Timer (v2) by alice'));
    h.model.script({ files: APP('Bob Timer') });
    await h.say('U0BOB', 'call it Bob Timer', { thread_ts: String(card.args.ts) });
    await h.settled();
    expect((await h.store.getApp(remixId))?.latestVersion).toBe(2);
    expect((await h.store.getApp(first.appId))?.latestVersion).toBe(2);
    expect((await h.store.getVersion(first.appId, 2))?.files).toEqual(source.files);
  });

  it('/vibe remix <id> from another workspace is refused like an id that does not exist', async () => {
    await h.start();
    const first = await h.create('a timer', 'Focus Timer');
    const before = fake.calls.length;
    await h.vibe(`remix ${first.appId}`, 'U0BOB', { team_id: 'T0ELSE' });
    const refusal = await fake.waitForCall('response_url', (c) => sent(c).includes(`There is no app`));
    expect(refusal.args.response_type).toBe('ephemeral');
    await h.settled();
    expect(h.callsAfter(before, 'chat.postMessage')).toEqual([]);
    expect((await h.store.appsInChannel(`slack:T0ELSE:${CHANNEL}`, 10)).items).toEqual([]);
  });

  it("the channel's cap and the person's builds per hour apply to a remix", async () => {
    h.limits({ channelMaxApps: 2, userBuildsPerHour: 2 });
    await h.start();
    const first = await h.create('a timer', 'Focus Timer');
    await h.vibe(`remix ${first.appId}`, 'U0USER'); // the second app here, and alice's second build this hour
    await fake.waitForCall('chat.update', (c) => sent(c).includes('Remixed from'));
    await h.settled();
    await h.vibe(`remix ${first.appId}`, 'U0BOB', { channel_id: OTHER }); // another channel has room
    await fake.waitForCall('chat.update', (c) => c.args.channel === OTHER && sent(c).includes('Remixed from'));
    await h.settled();
    await h.vibe(`remix ${first.appId}`, 'U0BOB');
    await fake.waitForCall('response_url', (c) => sent(c).includes('already holds 2 apps'));
    await h.vibe(`remix ${first.appId}`, 'U0USER', { channel_id: OTHER });
    await fake.waitForCall('response_url', (c) =>
      sent(c).includes('builds (new apps, changes, remixes and exports) this hour'),
    );
    await h.settled();
    expect((await h.store.appsInChannel(`slack:T0FAKE:${CHANNEL}`, 10)).items).toHaveLength(2);
  });
});

describe('Link unfurls', () => {
  /** `user` posts `text` (holding `links`) in `channel`, and Slack sends link_shared for the links. */
  async function share(user: string, channel: string, links: string[], team_id?: string) {
    const message = fake.postAsPerson({ channel, user, text: `have a look: ${links.map((l) => `<${l}>`).join(' ')}` });
    await h.deliver(
      eventCallback({ event: linkSharedEvent({ channel, user, message_ts: message.ts, links }), team_id }),
    );
    await h.settled();
    return message;
  }

  it('an app link shared in another channel unfolds: title, summary, latest screenshot, version, Open/Thread/Remix', async () => {
    await h.start();
    const { ts, appId } = await h.create('a pomodoro timer', 'Focus Timer');
    h.model.script({ files: APP('Focus Timer v2') });
    await h.say('U0USER', 'make it blue', { thread_ts: ts });
    await h.settled();
    const url = `https://apps.test/apps/${appId}/`;
    const before = fake.calls.length;
    const message = await share('U0BOB', OTHER, [url]);

    const [unfurl] = h.callsAfter(before, 'chat.unfurl');
    expect(unfurl).toBeDefined();
    expect(unfurl!.error).toBeUndefined();
    expect(unfurl!.args).toMatchObject({ channel: OTHER, ts: message.ts });
    const blocks = (fake.messages(OTHER).find((m) => m.ts === message.ts)!.unfurls as Record<string, any>)[url].blocks;
    const text = JSON.stringify(blocks);
    expect(text).toContain('Focus Timer');
    expect(text).toContain('About Focus Timer');
    expect(text).toContain('v2');
    const buttons = blocks.flatMap((b: { elements?: unknown[] }) => b.elements ?? []) as {
      text: { text: string };
      url?: string;
      value?: string;
      action_id: string;
    }[];
    expect(buttons.map((b) => b.text.text)).toEqual(['Open', 'Thread', 'Remix']);
    expect(buttons[0]!.url).toBe(url);
    expect(buttons[1]!.url).toBe(`https://fake-team.slack.com/archives/${CHANNEL}/p${ts.replace('.', '')}`);
    expect(buttons[2]).toMatchObject({ value: appId, action_id: expect.stringMatching(/^vibe:remix:/) });
    // The picture: the newest version's screenshot, uploaded once and shared nowhere, shown by file id.
    const image = blocks.find((b: { type: string }) => b.type === 'image');
    const file = fake.files().find((f) => f.id === image.slack_file.id)!;
    expect(file).toMatchObject({ completed: true, alt_text: 'Screenshot of Focus Timer, v2' });
    expect(file.channel).toBeUndefined();
    expect(readPng(file.bytes!)).toEqual({ width: 102, height: 40 }); // the second render: v2's
    // Nothing was posted for it: the unfurl is on the person's own message.
    expect(h.callsAfter(before, 'chat.postMessage')).toEqual([]);

    // Its Remix button makes the remix in the channel where it was pressed.
    await h.press('U0BOB', 'remix', appId, message.ts, OTHER);
    await fake.waitForCall('chat.update', (c) => c.args.channel === OTHER && sent(c).includes('Remixed from'));
    await h.settled();
    expect((await h.store.appsInChannel(`slack:T0FAKE:${OTHER}`, 5)).items.map((a) => a.ownerId)).toEqual([
      'slack:T0FAKE:U0BOB',
    ]);

    // The same picture is not uploaded again for the next link.
    const uploads = fake.files().length;
    await share('U0USER', CHANNEL, [url]);
    expect(fake.files()).toHaveLength(uploads);
  });

  it("no card for a deleted app's link, another workspace's, or a link that is not an app's", async () => {
    await h.start();
    const kept = await h.create('a timer', 'Focus Timer');
    const gone = await h.create('a clock', 'Clock');
    await h.press('U0USER', 'delete-confirm', gone.appId, gone.ts);
    await fake.waitForCall('chat.postMessage', (c) => sent(c).includes('Deleted'));
    await h.settled();
    const before = fake.calls.length;
    await share('U0BOB', OTHER, [`https://apps.test/apps/${gone.appId}/`]);
    await share('U0BOB', OTHER, [`https://apps.test/apps/${kept.appId}/`], 'T0ELSE');
    await share('U0BOB', OTHER, ['https://apps.test/apps/zzzz9999/', 'https://apps.test/docs/']);
    expect(h.callsAfter(before, 'chat.unfurl')).toEqual([]);
    // A message with a deleted app's link and a live one's: only the live one unfolds.
    const mixed = await share('U0BOB', OTHER, [
      `https://apps.test/apps/${gone.appId}/`,
      `https://apps.test/apps/${kept.appId}/dev/`,
    ]);
    const [unfurl] = h.callsAfter(before, 'chat.unfurl');
    expect(Object.keys(unfurl!.args.unfurls)).toEqual([`https://apps.test/apps/${kept.appId}/dev/`]);
    expect(unfurl!.args.ts).toBe(mixed.ts);
  });

  it('a link still in the composer is unfurled by its unfurl id', async () => {
    await h.start();
    const { appId } = await h.create('a timer', 'Focus Timer');
    const url = `https://apps.test/apps/${appId}/`;
    const event = linkSharedEvent({
      channel: 'COMPOSER',
      user: 'U0BOB',
      message_ts: 'C0FAKE-1',
      links: [url],
      source: 'composer',
      unfurl_id: 'C0FAKE.1.x',
    });
    await h.deliver(eventCallback({ event }));
    await h.settled();
    expect(JSON.stringify(fake.composerUnfurls('C0FAKE.1.x'))).toContain('Focus Timer');
  });
});

describe('App Home', () => {
  type Block = {
    type: string;
    text?: { text: string };
    elements?: { text: { text: string }; value?: string; action_id: string }[];
    slack_file?: { id: string };
  };
  const textOf = (blocks: Block[]) => JSON.stringify(blocks);
  const headers = (blocks: Block[]) => blocks.filter((b) => b.type === 'header').map((b) => b.text!.text);

  async function openHome(user: string): Promise<Block[]> {
    const before = fake.calls.length;
    await h.deliver(eventCallback({ event: appHomeOpenedEvent({ user }) }));
    await h.settled();
    const [publish] = h.callsAfter(before, 'views.publish');
    expect(publish?.error).toBeUndefined();
    expect(publish!.args.user_id).toBe(user);
    return fake.homeView(user)!.blocks as Block[];
  }

  it("publishes the person's apps newest first, with screenshots, versions and links, then their channels' apps", async () => {
    await h.start();
    const timer = await h.create('a timer', 'Focus Timer');
    h.model.script({ files: APP('Focus Timer v2') });
    await h.say('U0USER', 'make it blue', { thread_ts: timer.ts });
    await h.settled();
    await h.create('a clock', 'Clock');
    await h.create('a quiz', 'Bob Quiz', 'U0BOB'); // in a channel alice is in
    h.model.script({ files: APP('Secret'), title: 'Secret Plan' });
    await h.vibe('a secret plan', 'U0BOB', { channel_id: OTHER }); // alice is not in #random
    await fake.waitForCall('chat.update', (c) => c.args.channel === OTHER && sent(c).includes('Secret Plan'));
    await h.settled();

    const blocks = await openHome('U0USER');
    expect(headers(blocks)).toEqual(['Your apps', 'Clock', 'Focus Timer', 'Apps in your channels', 'Bob Quiz']);
    const text = textOf(blocks);
    expect(text).not.toContain('Secret Plan');
    expect(text).toContain('*Version*\\nv2');
    expect(text).toContain('<@U0BOB>'); // the home is alice's alone: a mention notifies nobody
    const images = blocks.filter((b) => b.type === 'image');
    expect(images).toHaveLength(3);
    for (const image of images) expect(fake.files().find((f) => f.id === image.slack_file!.id)?.completed).toBe(true);
    const buttons = blocks.flatMap((b) => b.elements ?? []).map((e) => e.text.text);
    expect(buttons).toEqual(['Open', 'Thread', 'Open', 'Thread', 'Open', 'Thread']);
    expect(JSON.parse(fake.homeView('U0USER')!.private_metadata)).toEqual({ channel: 'D00USER' });

    // Opened again, it is published afresh: a new app shows.
    await h.create('a list', 'Todo List');
    expect(headers(await openHome('U0USER'))).toContain('Todo List');
  });

  it('pages each list with its own Previous/Next, in place', async () => {
    await h.start();
    for (let i = 1; i <= 7; i++) await h.create(`app ${i}`, `App ${i}`);
    const first = await openHome('U0USER');
    expect(headers(first).filter((t) => t.startsWith('App '))).toEqual(['App 7', 'App 6', 'App 5', 'App 4', 'App 3']);
    const next = first.flatMap((b) => b.elements ?? []).find((e) => e.text.text === 'Next')!;
    const view = fake.homeView('U0USER')!;
    const before = fake.calls.length;
    await h.deliver(
      viewBlockActions({
        user_id: 'U0USER',
        actions: [{ action_id: next.action_id, value: next.value }],
        view: { id: 'V0HOME', private_metadata: view.private_metadata, blocks: view.blocks },
      }),
      'interactive',
    );
    await h.settled();
    expect(h.callsAfter(before, 'views.publish')).toHaveLength(1);
    const second = fake.homeView('U0USER')!.blocks as Block[];
    expect(headers(second).filter((t) => t.startsWith('App '))).toEqual(['App 2', 'App 1']);
    expect(second.flatMap((b) => b.elements ?? []).map((e) => e.text.text)).toContain('Previous');
  });

  it('the Messages tab publishes nothing; a workspace the bot does not serve is told so on the home', async () => {
    h.limits({ allowedTeams: ['T0ELSE'] });
    await h.start();
    const before = fake.calls.length;
    await h.deliver(eventCallback({ event: appHomeOpenedEvent({ user: 'U0USER', tab: 'messages' }) }));
    await h.settled();
    expect(h.callsAfter(before, 'views.publish')).toEqual([]);
    expect(textOf(await openHome('U0USER'))).toContain('not available in this workspace');
  });
});
