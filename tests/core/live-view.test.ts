import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppRuntime } from '../../src/core/apps/app-runtime.ts';
import type { AppStore, CodeModel, CodeTurn, FileMap, ProgressListener } from '../../src/core/ports/index.ts';
import { openAppStore } from '../../src/store/open.ts';
import { eventually } from '../support/eventually.ts';
import { MemorySandbox } from '../support/memory-sandbox.ts';
import { RecordingConversation } from '../support/recording-conversation.ts';
import { testBot, testRuntime } from '../support/test-bot.ts';

// Issue 23: watch it being written. While the model writes, each finished file goes into the
// sandbox (through the same write, so the same source check), the status message links the
// creator's live view as a work in progress, and the app's link still comes only after the checks.

const WATCH = 'Watch it being built (may show errors until it is checked)';

/** A model that writes two files, and before its turn ends waits until the test says so. */
class SteppedModel implements CodeModel {
  readonly label = 'stepped';
  readonly offline = false;
  constructor(
    private readonly steps: { files: FileMap; then: () => Promise<void> }[],
    private readonly refineSteps: { files: FileMap; then: () => Promise<void> }[] = [],
  ) {}
  generate(_prompt: string, onProgress: ProgressListener): Promise<CodeTurn> {
    return this.write({}, this.steps, onProgress);
  }
  refine(files: FileMap, _change: unknown, onProgress: ProgressListener): Promise<CodeTurn> {
    return this.write(files, this.refineSteps, onProgress);
  }
  private async write(
    from: FileMap,
    steps: { files: FileMap; then: () => Promise<void> }[],
    onProgress: ProgressListener,
  ): Promise<CodeTurn> {
    let files: FileMap = { ...from };
    for (const step of steps) {
      files = { ...files, ...step.files };
      onProgress({ kind: 'file', path: Object.keys(step.files)[0]!, files: Object.keys(files), snapshot: files });
      await step.then();
    }
    const turn: CodeTurn = {
      files,
      title: 'Stepped',
      usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 },
      repair: async () => turn,
    };
    return turn;
  }
}

let store: AppStore;
let sandbox: MemorySandbox;
let runtime: AppRuntime;
beforeEach(async () => {
  store = await openAppStore('memory://');
  sandbox = new MemorySandbox();
  runtime = testRuntime({ store, sandbox });
});
afterEach(async () => {
  await runtime.stopAll();
  await store.close();
});

const held = () => [...sandbox.sandboxes.values()].find((s) => s.running)?.files ?? {};

describe("the creator's live view while the model writes", () => {
  it('gets each finished file, and the status links it as a work in progress until the checked link', async () => {
    const conv = new RecordingConversation();
    const seen: FileMap[] = [];
    const model = new SteppedModel([
      {
        files: { 'src/util.ts': 'export const n = 1;\n' },
        then: () => eventually(() => expect(held()['src/util.ts']).toBeDefined()).then(() => void seen.push(held())),
      },
      {
        // A file the sandbox refuses is not written live either (the same write), and the turn's own write reports it.
        files: { 'src/App.tsx': 'export default () => <p>one</p>;\n', 'src/bad.ts': 'REFUSED' },
        then: async () => {
          await new Promise((r) => setTimeout(r, 50));
          seen.push(held());
        },
      },
    ]);
    const bot = testBot({ store, model, runtime });
    await bot.command({ conv, actor: { id: 'u1' }, channelId: conv.channelId }, 'a counter');

    expect(Object.keys(seen[0]!)).toEqual(['src/util.ts']); // written while the model was still writing
    expect(seen[1]!['src/bad.ts']).toBeUndefined(); // refused by the sandbox's check: not written
    const status = conv.events.filter((e) => e.id === conv.events[0]!.id && e.card).map((e) => e.card!);
    const watching = status.filter((c) => c.links?.some((l) => l.label === WATCH));
    expect(watching.length).toBeGreaterThan(0);
    expect(watching[0]!.links).toEqual([
      { label: WATCH, url: expect.stringMatching(/\/apps\/[a-z0-9]+\/dev\/$/), kind: 'creator' },
    ]);
    expect(watching.every((c) => c.meta?.state === 'progress')).toBe(true);
    // The refused file fails the checks: no app link is ever posted.
    const last = status.at(-1)!;
    expect(last.meta?.state).toBe('failed');
    expect(JSON.stringify(last.links ?? [])).not.toContain('/apps/');
  });

  it("a refinement's edits are not written until its turn is done (a live app's sandbox may serve viewers)", async () => {
    const conv = new RecordingConversation();
    const during: FileMap[] = [];
    const model = new SteppedModel(
      [{ files: { 'src/App.tsx': 'export default () => <p>one</p>;\n' }, then: async () => undefined }],
      [
        {
          files: { 'src/App.tsx': 'export default () => <p>half</p>;\n' },
          then: async () => {
            await new Promise((r) => setTimeout(r, 50));
            during.push(held());
          },
        },
      ],
    );
    const bot = testBot({ store, model, runtime });
    const ctx = { conv, actor: { id: 'u1' }, channelId: conv.channelId };
    await bot.command(ctx, 'a counter');
    const thread = conv.events.find((e) => e.type === 'thread')!.thread!;
    await bot.threadMessage({ ...ctx, threadId: thread }, 'make it half');
    expect(during[0]!['src/App.tsx']).toContain('one'); // still the live version while the model wrote
    expect(held()['src/App.tsx']).toContain('half'); // then the checked turn
    const replies = conv.events.filter((e) => e.type !== 'post' && e.card?.links?.some((l) => l.label === WATCH));
    expect(replies.every((e) => e.id === conv.events[0]!.id)).toBe(true); // the create's status only
  });
});
