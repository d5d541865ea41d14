import Anthropic from '@anthropic-ai/sdk';
import { pino } from 'pino';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readImages } from '../../src/core/build/images.ts';
import type { FileMap, ModelProgress } from '../../src/core/ports/index.ts';
import { ClaudeCodeModel } from '../../src/llm/claude.ts';
import type { ThinkingMode } from '../../src/llm/model-check.ts';
import { buildSystemPrompt } from '../../src/llm/system-prompt.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic/server.ts';
import { makePng } from '../support/png.ts';

// Extended thinking, pictures and the 1-hour cache, against the fake Messages API.

const templateFiles: FileMap = { 'src/App.tsx': 'export default function App() { return null; }\n' };
const APP = 'export default function App() {\n  return <h1>Hi</h1>;\n}\n';
const create = (path: string, file_text: string) => ({
  type: 'tool_use' as const,
  name: 'str_replace_based_edit_tool',
  input: { command: 'create', path, file_text },
});
const appInfo = { type: 'tool_use' as const, name: 'set_app_info', input: { title: 'Hi', summary: 'Says hi.' } };

let fake: FakeAnthropic;
beforeEach(async () => {
  fake = await startFakeAnthropic();
});
afterEach(async () => {
  await fake.close();
  expect(fake.responderErrors).toEqual([]);
});

function model(thinking: ThinkingMode = 'adaptive', readsImages = true): ClaudeCodeModel {
  return new ClaudeCodeModel({
    client: new Anthropic({ apiKey: 'sk-ant-test', baseURL: fake.url, maxRetries: 0 }),
    model: 'claude-sonnet-4-6',
    systemPrompt: buildSystemPrompt({ templateFiles, libraries: [{ name: 'react', version: '19.1.0', use: 'UI' }] }),
    templateFiles,
    logger: pino({ level: 'silent' }),
    thinking,
    readsImages,
  });
}

describe('extended thinking in the tool loop', () => {
  it('passes every thinking block back unchanged, narrates, and counts thinking tokens', async () => {
    fake.script(
      {
        content: [
          { type: 'thinking', thinking: 'A heading will do. I will write App.tsx first.' },
          { type: 'text', text: 'Writing the page.' },
          create('src/App.tsx', APP),
        ],
      },
      { content: [{ type: 'thinking', thinking: 'Now name it.' }, { type: 'redacted_thinking' }, appInfo] },
      { content: [{ type: 'text', text: 'Done: a page that says hi.' }] },
    );
    const progress: ModelProgress[] = [];
    const turn = await model().generate('a page that says hi', (p) => progress.push(p));
    expect(turn.files['src/App.tsx']).toBe(APP);
    expect(fake.requests).toHaveLength(3);
    // Each later request carries the earlier assistant messages with their thinking first, as sent.
    const third = fake.requests[2]!.body.messages;
    expect(third[1].content[0]).toMatchObject({
      type: 'thinking',
      thinking: 'A heading will do. I will write App.tsx first.',
    });
    expect(third[3].content.map((b: { type: string }) => b.type)).toEqual([
      'thinking',
      'redacted_thinking',
      'tool_use',
    ]);
    expect(fake.warnings).toEqual([]); // no thinking_block_dropped
    for (const r of fake.requests) {
      expect(r.body.thinking).toEqual({ type: 'adaptive' });
      for (const k of ['temperature', 'top_k', 'top_p']) expect(r.body).not.toHaveProperty(k);
    }
    expect(progress.filter((p) => p.kind === 'narration')).toEqual([{ kind: 'narration', text: 'Writing the page.' }]);
    const thinking = progress.flatMap((p) => (p.kind === 'usage' ? [p.usage.thinkingTokens ?? 0] : []));
    expect(thinking.slice(0, 2).every((n) => n > 0)).toBe(true);
    expect(turn.usage.thinkingTokens).toBe(thinking.reduce((a, b) => a + b, 0));
  });

  it('a repair continues the conversation with its thinking intact', async () => {
    fake.script(
      { content: [{ type: 'thinking', thinking: 'plan' }, create('src/App.tsx', APP), appInfo] },
      { content: [{ type: 'text', text: 'ok' }] },
      { content: [{ type: 'thinking', thinking: 'fix it' }, create('src/App.tsx', APP)] },
      { content: [{ type: 'text', text: 'fixed' }] },
    );
    const turn = await model().generate('hi', () => {});
    await turn.repair([{ file: 'src/App.tsx', line: 1, column: 1, message: 'TS1005: oops' }], () => {});
    expect(fake.warnings).toEqual([]);
    expect(fake.requests[2]!.body.messages[1].content[0].type).toBe('thinking');
  });

  it('a model without adaptive thinking gets a budget under max_tokens', async () => {
    fake.script(
      { content: [{ type: 'thinking', thinking: 'x' }, create('src/App.tsx', APP), appInfo] },
      {
        content: [{ type: 'text', text: 'ok' }],
      },
    );
    await model('budget').generate('hi', () => {});
    expect(fake.requests[0]!.body.thinking).toEqual({ type: 'enabled', budget_tokens: 8000 });
    expect(fake.requests[0]!.body.max_tokens).toBeGreaterThan(8000);
  });

  it('caches the system prompt (and the tools before it) for an hour, the messages for 5 minutes', async () => {
    fake.script({ content: [create('src/App.tsx', APP), appInfo] }, { content: [{ type: 'text', text: 'ok' }] });
    await model().generate('hi', () => {});
    const second = fake.requests[1]!.body;
    expect(second.system[0].cache_control).toEqual({ type: 'ephemeral', ttl: '1h' });
    expect(second.messages.at(-1).content.at(-1).cache_control).toEqual({ type: 'ephemeral' });
  });
});

describe('pictures', () => {
  it('sends each picture as an image block before the text, resized, with its name', async () => {
    const images = await readImages([{ name: 'mockup.png', size: 0, fetch: async () => makePng(3200, 1600) }]);
    fake.script({ content: [create('src/App.tsx', APP), appInfo] }, { content: [{ type: 'text', text: 'ok' }] });
    await model().generate('make it look like this', () => {}, undefined, undefined, images);
    const [user] = fake.requests[0]!.body.messages;
    expect(user.content.map((b: { type: string }) => b.type)).toEqual(['image', 'text']);
    expect(user.content[0].source.media_type).toBe('image/png');
    const meta = await sharp(Buffer.from(user.content[0].source.data, 'base64')).metadata();
    expect([meta.width, meta.height]).toEqual([1568, 784]);
    expect(user.content[1].text).toMatch(
      /^make it look like this\n\n\(The picture above is what the person attached: mockup\.png\.\)$/,
    );
  });

  it('a refine sends the picture with the change request', async () => {
    const images = await readImages([{ name: 'blue.png', fetch: async () => makePng(40, 40) }]);
    fake.script({ content: [{ type: 'text', text: 'ok' }] });
    await model().refine(
      { 'src/App.tsx': APP },
      { kind: 'change', instruction: 'use these colours' },
      () => {},
      undefined,
      undefined,
      images,
    );
    const content = fake.requests[0]!.body.messages[0].content;
    expect(content[0].type).toBe('image');
    expect(content[1].text).toContain('Change request: use these colours');
  });

  it('a model that takes no pictures refuses them before any request', async () => {
    const images = await readImages([{ name: 'a.png', fetch: async () => makePng(4, 4) }]);
    await expect(model('adaptive', false).generate('x', () => {}, undefined, undefined, images)).rejects.toThrow(
      /cannot read pictures/,
    );
    expect(fake.requests).toEqual([]);
  });
});
