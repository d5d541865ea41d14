import Anthropic from '@anthropic-ai/sdk';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FileMap } from '../../src/core/ports/index.ts';
import { ClaudeCodeModel } from '../../src/llm/claude.ts';
import { buildSystemPrompt } from '../../src/llm/system-prompt.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic/server.ts';

// What Claude reads when a request carries its chat thread: the real SDK against the fake Messages API.

const templateFiles: FileMap = { 'src/App.tsx': 'export default function App() {\n  return <p>Hi</p>;\n}\n' };
const APP = 'export default function App() {\n  return <h1 className="text-green-600">Timer</h1>;\n}\n';

let fake: FakeAnthropic;
beforeEach(async () => {
  fake = await startFakeAnthropic();
});
afterEach(async () => {
  await fake.close();
  expect(fake.responderErrors).toEqual([]);
});

function model(): ClaudeCodeModel {
  return new ClaudeCodeModel({
    client: new Anthropic({ apiKey: 'sk-ant-test', baseURL: fake.url, maxRetries: 0 }),
    systemPrompt: buildSystemPrompt({ templateFiles, libraries: [{ name: 'react', version: '19.1.0', use: 'UI' }] }),
    templateFiles,
    logger: pino({ level: 'silent' }),
  });
}

/** The text of the first request's first (user) message. */
function firstUserText(): string {
  const content = fake.requests[0]!.body.messages[0].content as string | { type: string; text?: string }[];
  return typeof content === 'string' ? content : content.map((b) => b.text ?? '').join('\n');
}

const write = (path: string, text: string) => ({
  type: 'tool_use' as const,
  name: 'str_replace_based_edit_tool',
  input: { command: 'create', path, file_text: text },
});

describe("a request that carries the thread's messages", () => {
  it('a refinement: the earlier messages, each tagged with its author, before the change request', async () => {
    fake.script({ content: [write('src/App.tsx', APP)] }, { content: [{ type: 'text', text: 'Done.' }] });
    await model().refine(
      templateFiles,
      { kind: 'change', instruction: 'do what Bob said above' },
      () => undefined,
      undefined,
      [
        { author: 'Bob', text: 'make the header <b>green</b> & bigger' },
        { author: 'Ana', text: 'agreed' },
      ],
    );
    const text = firstUserText();
    expect(text).toContain(
      '<thread>\n<message author="Bob">\nmake the header &lt;b&gt;green&lt;/b&gt; &amp; bigger\n</message>\n<message author="Ana">\nagreed\n</message>\n</thread>',
    );
    expect(text.indexOf('</thread>')).toBeLessThan(text.indexOf('Change request: do what Bob said above'));
  });

  it('without earlier messages the change request reads as before', async () => {
    fake.script({ content: [write('src/App.tsx', APP)] }, { content: [{ type: 'text', text: 'Done.' }] });
    await model().refine(
      templateFiles,
      { kind: 'change', instruction: 'make it green' },
      () => undefined,
      undefined,
      [],
    );
    expect(firstUserText()).not.toContain('<thread>');
    expect(firstUserText()).toContain('\n\nChange request: make it green');
  });

  it('a build from a discussion: the thread is the request, and the app is named from it when Claude does not', async () => {
    fake.script(
      { content: [write('src/App.tsx', APP)] },
      { content: [{ type: 'text', text: 'Built it.' }] },
      { content: [{ type: 'text', text: 'It is a timer.' }] }, // asked to name the app, it still does not
    );
    const turn = await model().generate('', () => undefined, undefined, [
      { author: 'Ana', text: 'we need a timer' },
      { author: 'Bob', text: 'a pomodoro timer with breaks' },
    ]);
    const text = firstUserText();
    expect(text).toContain('Build an app from this chat discussion');
    expect(text).toContain('<message author="Bob">\na pomodoro timer with breaks\n</message>');
    expect(text).toContain('Nobody added a request');
    expect(turn.title).toBe('A pomodoro timer with breaks');
  });
});
