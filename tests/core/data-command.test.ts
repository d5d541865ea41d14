import { strFromU8, unzipSync } from 'fflate';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { AppRuntime } from '../../src/core/apps/app-runtime.ts';
import type { VibeBot } from '../../src/core/bot.ts';
import type { ChatContext } from '../../src/core/chat/context.ts';
import { commandFor } from '../../src/core/chat/actions.ts';
import { parseCommand } from '../../src/core/chat/commands.ts';
import type { Actor } from '../../src/core/ports/index.ts';
import { AppZipPacker } from '../../src/export/app-zip.ts';
import { SharedStateServer } from '../../src/shared-state/server.ts';
import type { KeyvAppStore } from '../../src/store/keyv-app-store.ts';
import { openAppStore } from '../../src/store/open.ts';
import { TEMPLATE_DIR } from '../../src/template.ts';
import { MemorySandbox } from '../support/memory-sandbox.ts';
import { RecordingConversation } from '../support/recording-conversation.ts';
import { ScriptedModel } from '../support/scripted-model.ts';
import { testBot, testRuntime } from '../support/test-bot.ts';

// `/vibe data`, its reset, and the shared state going with the app: deleted with it, in its
// export, untouched by undo. The real bot, store and shared-state server; the data is written
// into the store's log as the server writes it.

const alice: Actor = { id: 'u:alice', name: 'alice' };
const bob: Actor = { id: 'u:bob', name: 'bob' };
const manager: Actor = { id: 'u:carol', name: 'carol', isManager: true };
const POLL = {
  'src/App.tsx': `import { useSharedList } from '@vibe/shared';\nexport default function App() { const v = useSharedList('votes'); return <h1>{v.items.length}</h1>; }\n`,
};

let store: KeyvAppStore;
let runtime: AppRuntime;
let shared: SharedStateServer;
let model: ScriptedModel;
let bot: VibeBot;
let conv: RecordingConversation;

const ctx = (actor: Actor, threadId?: string): ChatContext => ({ conv, actor, channelId: conv.channelId, threadId });

beforeEach(async () => {
  store = await openAppStore('memory://');
  model = new ScriptedModel();
  runtime = testRuntime({ store, sandbox: new MemorySandbox() });
  shared = new SharedStateServer({
    log: store.shared,
    logger: pino({ level: 'silent' }),
    appExists: async () => true,
    originAllowed: async () => true,
  });
  bot = testBot({ store, model, runtime, shared, packer: new AppZipPacker(TEMPLATE_DIR) });
  conv = new RecordingConversation();
});
afterEach(async () => {
  await shared.close();
  await runtime.stopAll();
  await store.close();
});

async function createPoll(): Promise<{ appId: string; thread: string }> {
  model.script({ files: POLL, title: 'Lunch Poll', summary: 'Votes' });
  await bot.command(ctx(alice), 'a lunch poll');
  const card = conv.cards().find((c) => c.meta?.state === 'live')!;
  return { appId: card.meta!.appId!, thread: conv.events.find((e) => e.type === 'thread')!.thread! };
}

/** Two votes and a title, stored as a page's writes are. */
async function vote(appId: string): Promise<void> {
  const doc = new Y.Doc();
  const now = Date.now();
  doc.getMap('l:votes').set('viewer1', { v: { choice: 'pizza' }, by: 'viewer1', at: now, c: now });
  doc.getMap('l:votes').set('viewer2', { v: { choice: 'sushi' }, by: 'viewer2', at: now + 1, c: now + 1 });
  doc.getMap('s').set('title', 'Friday');
  await store.shared.append(appId, 'initial', Y.encodeStateAsUpdate(doc));
}

describe('/vibe data', () => {
  it('parses, with its text twins', () => {
    expect(parseCommand('data')).toEqual({ kind: 'data', appId: undefined });
    expect(parseCommand('data abcd1234')).toEqual({ kind: 'data', appId: 'abcd1234' });
    expect(parseCommand('data reset')).toEqual({ kind: 'data-reset', appId: undefined, confirmed: false });
    expect(parseCommand('data reset abcd1234 confirm')).toEqual({
      kind: 'data-reset',
      appId: 'abcd1234',
      confirmed: true,
    });
    expect(parseCommand('data about cats').kind).toBe('create');
    expect(commandFor('data-reset-confirm', 'abcd1234')).toBe('/vibe data reset abcd1234 confirm');
  });

  it('shows the size and items; only the owner or a manager resets it, after confirming', async () => {
    const { appId, thread } = await createPoll();
    await vote(appId);
    await bot.command(ctx(bob, thread), 'data');
    const card = conv.cards('ephemeral').at(-1)!;
    expect(card.title).toBe('Lunch Poll: shared data');
    expect(card.fields).toEqual(
      expect.arrayContaining([
        { label: 'List items', value: '2 of 1,000' },
        { label: 'Lists', value: 'votes (2)' },
        { label: 'Shared values', value: '1' },
      ]),
    );
    expect(card.fields?.find((f) => f.label === 'Size')?.value).toMatch(/^\d+ B of 1 MB$/);
    expect(card.text).toMatch(/Undo and restore change the code only/);
    expect(card.actions?.[0]).toMatchObject({ action: 'data-reset', value: appId });

    await bot.action(ctx(bob, thread), 'data-reset', appId);
    expect(conv.cards('ephemeral').at(-1)?.text).toMatch(/Only the app's owner/);
    await bot.action(ctx(bob, thread), 'data-reset-confirm', appId);
    expect((await shared.exportData(appId))?.lists.votes).toHaveLength(2);

    await bot.command(ctx(alice, thread), 'data reset');
    const confirm = conv.cards('ephemeral').at(-1)!;
    expect(confirm.actions?.[0]).toMatchObject({
      action: 'data-reset-confirm',
      value: appId,
      confirm: expect.any(Object),
    });
    expect((await shared.exportData(appId))?.lists.votes).toHaveLength(2);
    await bot.action(ctx(alice, thread), 'data-reset-confirm', appId);
    expect(await shared.exportData(appId)).toBeUndefined();
    expect(conv.cards('reply').at(-1)?.title).toBe('Cleared the shared data of "Lunch Poll"');

    // A channel manager may too, by the text twin with the app's id, from the channel.
    await vote(appId);
    await bot.command(ctx(manager), `data reset ${appId} confirm`);
    expect(await shared.exportData(appId)).toBeUndefined();
  });

  it('undo leaves it as it is; export carries it as data.json with a read-only module; delete removes it', async () => {
    const { appId, thread } = await createPoll();
    model.script({ files: { ...POLL, 'src/Extra.tsx': 'export const x = 1;\n' } });
    await bot.threadMessage(ctx(alice, thread), 'add a file');
    await vote(appId);
    await bot.command(ctx(alice, thread), 'undo');
    expect((await store.getApp(appId))?.latestVersion).toBe(3);
    expect((await shared.exportData(appId))?.lists.votes).toHaveLength(2);

    await bot.command(ctx(bob, thread), 'export');
    const zipCard = conv.cards('reply').find((c) => c.file)!;
    const zip = unzipSync(zipCard.file!.bytes);
    const file = (suffix: string) => {
      const path = Object.keys(zip).find((p) => p.endsWith(suffix));
      return path ? strFromU8(zip[path]!) : undefined;
    };
    const data = JSON.parse(file('/public/data.json')!) as {
      state: Record<string, unknown>;
      lists: Record<string, { id: string; value: unknown; by: string }[]>;
    };
    expect(data.state).toEqual({ title: 'Friday' });
    expect(data.lists.votes?.map((v) => [v.id, v.value])).toEqual([
      ['viewer1', { choice: 'pizza' }],
      ['viewer2', { choice: 'sushi' }],
    ]);
    expect(file('/vibe-shared/index.ts')).toMatch(/read-only/);
    expect(file('/vite.config.ts')).toMatch(/'@vibe\/shared': fileURLToPath/);
    expect(file('/tsconfig.json')).toMatch(/"@vibe\/shared": \["\.\/vibe-shared\/index\.ts"\]/);
    expect(file('/README.md')).toMatch(/## Shared data/);

    await bot.action(ctx(alice, thread), 'delete-confirm', appId);
    expect((await store.getApp(appId))?.deleted).toBe(true);
    expect(await shared.exportData(appId)).toBeUndefined();
    expect((await store.shared.read(appId)).updates).toEqual([]);
  });
});
