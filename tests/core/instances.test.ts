import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { AppLeases } from '../../src/core/apps/app-lease.ts';
import type { VibeBot } from '../../src/core/bot.ts';
import type { ChangeRequest, CodeModel, CodeTurn, FileMap, ProgressListener } from '../../src/core/ports/index.ts';
import type { KeyvAppStore } from '../../src/store/keyv-app-store.ts';
import { openAppStore } from '../../src/store/open.ts';
import { uniqueNamespace } from '../store/app-store-contract.ts';
import { MemorySandbox } from '../support/memory-sandbox.ts';
import { ci, reachable } from '../support/needs.ts';
import { RecordingConversation } from '../support/recording-conversation.ts';
import { testBot, testRuntime } from '../support/test-bot.ts';

// Several bot processes on one store: two instances (each its own runtime, sandboxes and
// per-app queue, as two processes would have) change one app at the same time.

const usage = { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 };

/** A model that really applies a change: each instruction is appended to src/log.md of the files it is given. */
class AppendingModel implements CodeModel {
  readonly label = 'appending';
  readonly offline = false;
  constructor(private readonly delayMs: number) {}
  generate(prompt: string, onProgress: ProgressListener): Promise<CodeTurn> {
    return this.turn({ 'src/App.tsx': 'export default function App() { return null; }\n' }, prompt, onProgress);
  }
  refine(files: FileMap, change: ChangeRequest, onProgress: ProgressListener): Promise<CodeTurn> {
    return this.turn(files, change.kind === 'change' ? change.instruction : 'fix', onProgress);
  }
  private async turn(files: FileMap, line: string, onProgress: ProgressListener): Promise<CodeTurn> {
    await new Promise((r) => setTimeout(r, this.delayMs));
    onProgress({ kind: 'usage', usage });
    const next = { ...files, 'src/log.md': `${files['src/log.md'] ?? ''}${line}\n` };
    return { files: next, title: 'Log', usage, repair: () => Promise.reject(new Error('no repairs')) };
  }
}

const backends = [
  ['Redis', process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'],
  ['PostgreSQL', process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'],
] as const;

for (const [name, url] of backends) {
  const { hostname, port } = new URL(url);
  const available = await reachable(hostname, Number(port));
  describe.runIf(available || ci)(`two bot instances on one ${name} store`, () => {
    const namespace = uniqueNamespace(`inst-${name.toLowerCase()}`);
    const stores: KeyvAppStore[] = [];
    afterAll(async () => {
      await stores[0]?.destroyNamespace();
      for (const s of stores) await s.close();
    });

    async function instance() {
      const store = await openAppStore(url, { namespace });
      stores.push(store);
      const sandbox = new MemorySandbox();
      const runtime = testRuntime({ store, sandbox });
      const leases = new AppLeases(store, pino({ level: 'silent' }), { ttlMs: 3000, pollMs: 50 });
      return { bot: testBot({ store, model: new AppendingModel(300), runtime, leases }), store, runtime, sandbox };
    }

    it('refining one app at the same time keeps both changes, in order', { timeout: 60_000 }, async () => {
      const [a, b] = [await instance(), await instance()];
      const convA = new RecordingConversation('slack:T1:C1');
      const convB = new RecordingConversation('slack:T1:C1');
      const actor = { id: 'slack:T1:U1' };
      await a.bot.command({ conv: convA, actor, channelId: convA.channelId }, 'a log');
      const appId = convA.cards().find((c) => c.meta?.state === 'live')!.meta!.appId!;
      const threadId = convA.events.find((e) => e.type === 'thread')!.thread!;
      await Promise.all([
        a.bot.threadMessage({ conv: convA, actor, channelId: convA.channelId, threadId }, 'change A'),
        b.bot.threadMessage({ conv: convB, actor, channelId: convB.channelId, threadId }, 'change B'),
      ]);
      const versions = await a.store.listVersions(appId);
      expect(versions.map((v) => v.number)).toEqual([3, 2, 1]);
      const [v3, v2] = versions;
      // v3 was made from v2: the later change is applied on top of the earlier one, nothing lost.
      expect(v3!.files['src/log.md']).toBe(`a log\n${v2!.instruction}\n${v3!.instruction}\n`);
      expect([v2!.instruction, v3!.instruction].sort()).toEqual(['change A', 'change B']);
      for (const conv of [convA, convB]) expect(conv.cards().at(-1)?.meta?.state).toBe('live');
    });

    it(
      "an instance's sandbox follows the store: another instance's version is written before it is used",
      { timeout: 60_000 },
      async () => {
        const [a, b] = [await instance(), await instance()];
        const conv = new RecordingConversation('slack:T1:C2');
        const actor = { id: 'slack:T1:U1' };
        await a.bot.command({ conv, actor, channelId: conv.channelId }, 'a follower');
        const appId = conv.cards().find((c) => c.meta?.state === 'live')!.meta!.appId!;
        const threadId = conv.events.find((e) => e.type === 'thread')!.thread!;
        await b.bot.threadMessage({ conv, actor, channelId: conv.channelId, threadId }, 'from b');
        expect(a.sandbox.filesOf(appId)?.['src/log.md']).toBe('a follower\n'); // a's sandbox has v1 still
        await new Promise((r) => setTimeout(r, 2100)); // past the follow interval
        await a.runtime.ensure(appId);
        expect(a.sandbox.filesOf(appId)?.['src/log.md']).toBe('a follower\nfrom b\n');
      },
    );
  });
}
