import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppRuntime } from '../../src/core/apps/app-runtime.ts';
import type {
  AppStore,
  CodeModel,
  CodeTurn,
  FileMap,
  ProgressListener,
  RenderChecker,
  RenderResult,
} from '../../src/core/ports/index.ts';
import { createClaudeModel } from '../../src/llm/create-claude.ts';
import { openAppStore } from '../../src/store/open.ts';
import { TEMPLATE_DIR } from '../../src/template.ts';
import { startFakeAnthropic } from '../fakes/anthropic/server.ts';
import { eventually } from '../support/eventually.ts';
import { MemorySandbox } from '../support/memory-sandbox.ts';
import { RecordingConversation } from '../support/recording-conversation.ts';
import { testBot, testRuntime } from '../support/test-bot.ts';

// A create's files are written while the model writes them; once the model's request that wrote
// them has ended, their checks begin while it finishes its turn. The build loop takes those
// answers when the turn ends with the same files, and checks afresh when it does not.

const quiet = pino({ level: 'silent' });
const usage = { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 };

/** Writes `first` in one request, then (a second request) ends its turn with `last`, once `until` resolves. */
class TwoRequestModel implements CodeModel {
  readonly label = 'two-requests';
  readonly offline = false;
  constructor(
    private readonly first: FileMap,
    private readonly last: FileMap,
    private readonly until: () => Promise<unknown>,
  ) {}
  async generate(_prompt: string, onProgress: ProgressListener): Promise<CodeTurn> {
    onProgress({ kind: 'file', path: 'src/App.tsx', files: Object.keys(this.first), snapshot: this.first });
    onProgress({ kind: 'usage', usage }); // the request that wrote it has ended
    await this.until();
    onProgress({ kind: 'usage', usage }); // the closing request
    const turn: CodeTurn = { files: this.last, title: 'Early', usage, repair: async () => turn };
    return turn;
  }
  refine(): Promise<CodeTurn> {
    throw new Error('not used');
  }
}

/** "Renders" whatever the app's memory sandbox holds when asked. */
class StandInBrowser implements RenderChecker {
  readonly opened: FileMap[] = [];
  readonly openedAt: number[] = [];
  constructor(private readonly sandbox: MemorySandbox) {}
  async render(url: string): Promise<RenderResult> {
    const appId = /\/apps\/([^/]+)\//.exec(url)?.[1] ?? '';
    this.opened.push({ ...this.sandbox.filesOf(appId) });
    this.openedAt.push(Date.now());
    return { errors: [], screenshot: new Uint8Array([0x89, 0x50, 0x4e, 0x47]), ms: 1 };
  }
  async close(): Promise<void> {}
}

let store: AppStore;
let sandbox: MemorySandbox;
let browser: StandInBrowser;
let runtime: AppRuntime;
let checks: FileMap[];
beforeEach(async () => {
  store = await openAppStore('memory://');
  sandbox = new MemorySandbox();
  checks = [];
  const check = sandbox.check.bind(sandbox);
  sandbox.check = async (id) => {
    checks.push({ ...sandbox.sandboxes.get(id)!.files });
    return check(id);
  };
  browser = new StandInBrowser(sandbox);
  runtime = testRuntime({ store, sandbox, browser });
});
afterEach(async () => {
  await runtime.stopAll();
  await store.close();
});

const app = (text: string) => ({ 'src/main.tsx': 'main', 'src/App.tsx': text });

describe('checks begun before the model ends its turn', () => {
  it('answer the build loop when the turn ends with the same files: one type check, one page load', async () => {
    const files = app('export default () => <p>early</p>;');
    // The model's closing request ends only once the page load has begun without it.
    const model = new TwoRequestModel(files, files, () => eventually(() => browser.opened.length === 1));
    const conv = new RecordingConversation();
    await testBot({ store, model, runtime }).command({ conv, actor: { id: 'u1' }, channelId: conv.channelId }, 'x');
    expect(conv.cards().at(-1)?.meta?.state).toBe('live');
    expect(browser.opened).toEqual([files]);
    expect(checks).toEqual([files]);
  });

  it('are asked again when the turn ends with other files, and the link is for those', async () => {
    const early = app('export default () => <p>early</p>;');
    const final = app('export default () => <p>final</p>;');
    const model = new TwoRequestModel(early, final, () => eventually(() => browser.opened.length === 1));
    const conv = new RecordingConversation();
    await testBot({ store, model, runtime }).command({ conv, actor: { id: 'u1' }, channelId: conv.channelId }, 'x');
    const live = conv.cards().at(-1);
    expect(live?.meta?.state).toBe('live');
    expect(browser.opened).toEqual([early, final]);
    expect(checks.at(-1)).toEqual(final);
    expect((await store.getVersion(live!.meta!.appId!, 1))?.files).toEqual(final);
  });

  it('begin before Claude ends its turn (the real adapter, the fake Messages API): its closing words overlap them', async () => {
    const fake = await startFakeAnthropic({ tokenDelayMs: 2 });
    try {
      const text = 'export default function App() {\n  return <p>early</p>;\n}\n';
      fake.script(
        {
          content: [
            {
              type: 'tool_use',
              name: 'str_replace_based_edit_tool',
              input: { command: 'create', path: 'src/App.tsx', file_text: text },
            },
            { type: 'tool_use', name: 'set_app_info', input: { title: 'Early', summary: 'A test.' } },
          ],
        },
        // About 400 tokens of closing words: most of a second at this pace.
        { content: [{ type: 'text', text: 'Built a page that says early. '.repeat(55) }] },
      );
      const claude = await createClaudeModel({
        apiKey: 'k',
        baseURL: fake.url,
        templateDir: TEMPLATE_DIR,
        logger: quiet,
      });
      let turnEndedAt = 0;
      const model: CodeModel = {
        label: claude.label,
        offline: false,
        generate: async (...args) => {
          const turn = await claude.generate(...args);
          turnEndedAt = Date.now();
          return turn;
        },
        refine: (...args) => claude.refine(...args),
      };
      const conv = new RecordingConversation();
      await testBot({ store, model, runtime }).command({ conv, actor: { id: 'u1' }, channelId: conv.channelId }, 'x');
      expect(conv.cards().at(-1)?.meta?.state).toBe('live');
      expect(browser.opened).toHaveLength(1); // the build loop took the early page load
      expect(browser.opened[0]!['src/App.tsx']).toBe(text);
      expect(browser.openedAt[0]!).toBeLessThan(turnEndedAt);
      expect(checks).toHaveLength(1);
    } finally {
      await fake.close();
    }
  });
});
