import Anthropic from '@anthropic-ai/sdk';
import type { MessageParam } from '@anthropic-ai/sdk/resources/messages';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic/server.ts';

// The fake's Models API, thinking blocks, image blocks and cache TTLs, through the real SDK.
let fake: FakeAnthropic;
let client: Anthropic;
beforeEach(async () => {
  fake = await startFakeAnthropic();
  client = new Anthropic({ apiKey: 'k', baseURL: fake.url, maxRetries: 0 });
});
afterEach(async () => {
  await fake.close();
  expect(fake.responderErrors).toEqual([]);
});

const tool = { name: 'x', description: 'x', input_schema: { type: 'object' as const, properties: {} } };

describe('fake Models API', () => {
  it('lists active and deprecated models newest first, across pages, and never a retired one', async () => {
    const ids: string[] = [];
    for await (const m of client.models.list({ limit: 2 })) ids.push(m.id);
    expect(ids).toEqual(['claude-opus-4-7', 'claude-sonnet-4-6', 'claude-opus-4-6', 'claude-sonnet-4-5-20250929']);
    expect(fake.modelsRequests.length).toBe(2);
    expect(fake.modelsRequests[1]!.path).toBe('/v1/models');
  });

  it('resolves an alias to its model, and answers 404 for a retired or unknown id', async () => {
    expect((await client.models.retrieve('claude-sonnet-4-5')).id).toBe('claude-sonnet-4-5-20250929');
    await expect(client.models.retrieve('claude-sonnet-4-20250514')).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    await expect(client.models.retrieve('nope')).rejects.toBeInstanceOf(Anthropic.NotFoundError);
  });
});

describe('fake thinking blocks', () => {
  const ask = (messages: MessageParam[], thinking = true) =>
    client.messages.stream({
      model: 'claude-sonnet-4-6',
      max_tokens: 4000,
      ...(thinking ? { thinking: { type: 'adaptive' as const } } : {}),
      tools: [tool],
      messages,
    });

  it('streams a signed thinking block and counts its tokens; passed back unchanged, no warning', async () => {
    fake.script(
      {
        content: [
          { type: 'thinking', thinking: 'I should call x.' },
          { type: 'tool_use', name: 'x', input: {} },
        ],
      },
      { content: [{ type: 'text', text: 'done' }] },
    );
    const first = await ask([{ role: 'user', content: 'go' }]).finalMessage();
    const [thought, use] = first.content;
    expect(thought).toMatchObject({ type: 'thinking', thinking: 'I should call x.' });
    expect((thought as { signature: string }).signature.length).toBeGreaterThan(20);
    expect(first.usage.output_tokens_details?.thinking_tokens).toBe(4);
    const back: MessageParam[] = [
      { role: 'user', content: 'go' },
      { role: 'assistant', content: first.content as never },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: (use as { id: string }).id, content: 'ok' }] },
    ];
    expect((await ask(back).finalMessage()).content).toEqual([{ type: 'text', text: 'done' }]);
    expect(fake.warnings).toEqual([]);
  });

  it('a dropped thinking block is a thinking_block_dropped warning, and a 400 in the tool loop', async () => {
    fake.script({
      content: [
        { type: 'thinking', thinking: 'hmm' },
        { type: 'tool_use', name: 'x', input: {}, id: 'toolu_a' },
      ],
    });
    const first = await ask([{ role: 'user', content: 'go' }]).finalMessage();
    const withoutThinking = first.content.filter((b) => b.type !== 'thinking');
    const err = await ask([
      { role: 'user', content: 'go' },
      { role: 'assistant', content: withoutThinking as never },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_a', content: 'ok' }] },
    ])
      .finalMessage()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as Error).message).toMatch(/must start with a thinking block/);
    expect(fake.warnings).toEqual([{ type: 'thinking_block_dropped', message: 1, request: 1 }]);
  });

  it('a changed thinking block fails its signature check', async () => {
    fake.script({
      content: [
        { type: 'thinking', thinking: 'plan A' },
        { type: 'tool_use', name: 'x', input: {}, id: 'toolu_b' },
      ],
    });
    const first = await ask([{ role: 'user', content: 'go' }]).finalMessage();
    const edited = first.content.map((b) => (b.type === 'thinking' ? { ...b, thinking: 'plan B' } : b));
    const err = await ask([
      { role: 'user', content: 'go' },
      { role: 'assistant', content: edited as never },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_b', content: 'ok' }] },
    ])
      .finalMessage()
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/Invalid `signature` in `thinking` block/);
  });

  it('refuses sampling settings with thinking, a budget not under max_tokens, and thinking scripted without it', async () => {
    const base = { model: 'm', max_tokens: 2000, messages: [{ role: 'user' as const, content: 'hi' }] };
    // This SDK's types no longer list sampling settings; the API still reads them.
    const sampled = { ...base, thinking: { type: 'adaptive' }, temperature: 0.2 } as never;
    await expect(client.messages.create(sampled)).rejects.toThrow(/temperature/);
    await expect(
      client.messages.create({ ...base, thinking: { type: 'enabled', budget_tokens: 2000 } }),
    ).rejects.toThrow(/max_tokens` must be greater/);
    fake.script({
      content: [
        { type: 'thinking', thinking: 'x' },
        { type: 'text', text: 'y' },
      ],
    });
    await expect(client.messages.create(base)).rejects.toThrow(/without thinking on/);
  });
});

describe('fake image blocks and cache TTLs', () => {
  it('takes a real picture of its declared type; refuses bytes that are not what they claim', async () => {
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } })
      .png()
      .toBuffer();
    const image = (data: string, media_type: 'image/png' | 'image/jpeg') => ({
      type: 'image' as const,
      source: { type: 'base64' as const, media_type, data },
    });
    const ask = (block: ReturnType<typeof image>) =>
      client.messages.create({
        model: 'm',
        max_tokens: 10,
        messages: [{ role: 'user', content: [block, { type: 'text', text: 'like this' }] }],
      });
    fake.script({ content: [{ type: 'text', text: 'ok' }] });
    await expect(ask(image(png.toString('base64'), 'image/png'))).resolves.toBeTruthy();
    await expect(ask(image(png.toString('base64'), 'image/jpeg'))).rejects.toThrow(/does not match/);
    await expect(ask(image(Buffer.from('<html>').toString('base64'), 'image/png'))).rejects.toThrow(
      /Could not process/,
    );
  });

  it('refuses a 1h cache breakpoint after a 5m one', async () => {
    const err = await client.messages
      .create({
        model: 'm',
        max_tokens: 10,
        system: [{ type: 'text', text: 's', cache_control: { type: 'ephemeral' } }],
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'hi', cache_control: { type: 'ephemeral', ttl: '1h' } }] },
        ],
      })
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/ttl='1h' must not come after/);
  });
});
