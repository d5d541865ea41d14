import Anthropic from '@anthropic-ai/sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic/server.ts';

// The fake itself: the parts the Claude tests do not already exercise.
let fake: FakeAnthropic;
afterEach(async () => {
  await fake.close();
});

describe('fake Anthropic Messages API', () => {
  beforeEach(async () => {
    fake = await startFakeAnthropic();
  });

  it('answers non-streaming requests with a full Message', async () => {
    fake.script({ content: [{ type: 'text', text: 'hello' }], usage: { input_tokens: 9, output_tokens: 2 } });
    const client = new Anthropic({ apiKey: 'k', baseURL: fake.url, maxRetries: 0 });
    const msg = await client.messages.create({
      model: 'm',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(msg).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'm',
      stop_reason: 'end_turn',
      content: [{ type: 'text', text: 'hello' }],
    });
    expect(msg.usage).toMatchObject({ input_tokens: 9, output_tokens: 2, cache_read_input_tokens: 0 });
  });

  it('streams the real event sequence, tool input split into several input_json_delta chunks', async () => {
    const input = {
      command: 'create',
      path: 'src/App.tsx',
      file_text: 'export default function App() { return null; }',
    };
    fake.script({
      content: [
        { type: 'text', text: 'ok' },
        { type: 'tool_use', name: 'str_replace_based_edit_tool', input },
      ],
    });
    const client = new Anthropic({ apiKey: 'k', baseURL: fake.url, maxRetries: 0 });
    const stream = client.messages.stream({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    const events: string[] = [];
    let jsonChunks = 0;
    stream.on('streamEvent', (e) => {
      events.push(e.type);
      if (e.type === 'content_block_delta' && e.delta.type === 'input_json_delta' && e.delta.partial_json) jsonChunks++;
    });
    const msg = await stream.finalMessage();
    expect(events[0]).toBe('message_start');
    expect(events.slice(-2)).toEqual(['message_delta', 'message_stop']);
    expect(events).toContain('content_block_start');
    expect(events).toContain('content_block_stop');
    expect(jsonChunks).toBeGreaterThanOrEqual(3);
    expect(msg.stop_reason).toBe('tool_use');
    expect(msg.content[1]).toMatchObject({ type: 'tool_use', name: 'str_replace_based_edit_tool', input });
  });

  it('rejects a tool_use left without its tool_result, like the real API', async () => {
    const client = new Anthropic({ apiKey: 'k', baseURL: fake.url, maxRetries: 0 });
    const err = await client.messages
      .create({
        model: 'm',
        max_tokens: 10,
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'x', input: {} }] },
          { role: 'user', content: 'go on' },
        ],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as Error).message).toMatch(/tool_use` ids were found without `tool_result/);
  });

  it('fails loudly when the script runs out', async () => {
    const client = new Anthropic({ apiKey: 'k', baseURL: fake.url, maxRetries: 0 });
    await expect(
      client.messages.create({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toThrow(/no scripted reply/);
  });
});

describe('fake Anthropic token pacing', () => {
  it('streams at the configured token rate', async () => {
    fake = await startFakeAnthropic({ tokenDelayMs: 5, chunkChars: 8 });
    fake.script({ content: [{ type: 'text', text: 'x'.repeat(400) }] }); // 100 tokens -> ~500 ms
    const client = new Anthropic({ apiKey: 'k', baseURL: fake.url, maxRetries: 0 });
    const started = performance.now();
    const msg = await client.messages
      .stream({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .finalMessage();
    const elapsed = performance.now() - started;
    expect(msg.content[0]).toMatchObject({ text: 'x'.repeat(400) });
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(3000);
  });
});
