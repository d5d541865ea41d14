import Anthropic from '@anthropic-ai/sdk';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildVibeApp } from '../../src/app.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import type { Logger } from '../../src/core/ports/index.ts';
import { createClaudeModel } from '../../src/llm/create-claude.ts';
import { DEFAULT_MODEL } from '../../src/llm/default-model.ts';
import { checkModel } from '../../src/llm/model-check.ts';
import { modelCapabilities } from '../fakes/anthropic/models.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic/server.ts';

// The start-up check of the model against the fake Models API, through the real SDK.

/** A Logger that keeps what it was told. */
function recordingLogger() {
  const lines: { level: string; msg: string; obj: object }[] = [];
  const at =
    (level: string) =>
    (obj: object, msg = '') =>
      void lines.push({ level, msg, obj });
  const logger: Logger = { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
  return { logger, lines, warnings: () => lines.filter((l) => l.level === 'warn').map((l) => l.msg) };
}

let fake: FakeAnthropic;
beforeEach(async () => {
  fake = await startFakeAnthropic({ apiKey: 'sk-ant-check' });
});
afterEach(async () => {
  await fake.close();
});

const client = (baseURL = fake.url, apiKey = 'sk-ant-check') => new Anthropic({ apiKey, baseURL, maxRetries: 0 });

describe('the start-up model check', () => {
  it('uses the pinned default when the key lists it, with adaptive thinking', async () => {
    const log = recordingLogger();
    expect(DEFAULT_MODEL).toBe('claude-sonnet-4-6');
    expect(await checkModel({ client: client(), logger: log.logger })).toEqual({
      id: 'claude-sonnet-4-6',
      thinking: 'adaptive',
      images: true,
    });
    expect(log.warnings()).toEqual([]);
    expect(fake.modelsRequests[0]!.headers['authorization']).toBe('Bearer sk-ant-check');
  });

  it('without VIBE_MODEL and the pinned model gone, takes the newest Sonnet-class model and says so once', async () => {
    fake.models = fake.models.filter((m) => m.id !== DEFAULT_MODEL);
    fake.models.push(
      { id: 'claude-sonnet-5', display_name: 'Claude Sonnet 5', created_at: '2026-09-01T00:00:00Z', line: 'sonnet' },
      { id: 'claude-haiku-5', display_name: 'Claude Haiku 5', created_at: '2026-10-01T00:00:00Z', line: 'haiku' },
    );
    const log = recordingLogger();
    const checked = await checkModel({ client: client(), logger: log.logger });
    expect(checked.id).toBe('claude-sonnet-5');
    expect(log.warnings()).toEqual([
      'claude-sonnet-4-6 is not available to this API key; using claude-sonnet-5, the newest Sonnet-class model it lists',
    ]);
  });

  it('refuses a retired VIBE_MODEL at start-up, naming it and listing the Sonnet and Opus models instead', async () => {
    const config = loadConfig({
      ANTHROPIC_API_KEY: 'sk-ant-check',
      ANTHROPIC_BASE_URL: fake.url,
      VIBE_MODEL: 'claude-sonnet-4-20250514',
      VIBE_STORE_URL: 'memory://',
    });
    const err = await buildVibeApp(config, recordingLogger().logger).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(
      'VIBE_MODEL=claude-sonnet-4-20250514 is not among the models this API key can use (it may have been retired). ' +
        'Models it can use: Sonnet-class: claude-sonnet-4-6, claude-sonnet-4-5-20250929; Opus-class: claude-opus-4-7, claude-opus-4-6. ' +
        'Set VIBE_MODEL to one of them, or unset it to use claude-sonnet-4-6 or the newest Sonnet-class model.',
    );
    expect(fake.requests).toEqual([]); // no build ever reached the Messages API
  });

  it('takes an alias of a listed model, and a model without adaptive thinking thinks with a budget', async () => {
    const log = recordingLogger();
    const checked = await checkModel({ client: client(), configured: 'claude-sonnet-4-5', logger: log.logger });
    expect(checked).toEqual({ id: 'claude-sonnet-4-5', thinking: 'budget', images: true });
    expect(log.warnings()[0]).toMatch(/claude-sonnet-4-5 is deprecated and retires on 2026-11-30/);
  });

  it('a model the API says takes no pictures is marked so', async () => {
    fake.models.push({
      id: 'claude-text-only',
      display_name: 'Text only',
      created_at: '2026-01-01T00:00:00Z',
      line: 'sonnet',
      capabilities: modelCapabilities({ adaptive: true, enabled: true }, false),
    });
    const checked = await checkModel({
      client: client(),
      configured: 'claude-text-only',
      logger: recordingLogger().logger,
    });
    expect(checked.images).toBe(false);
  });

  it('offline (nothing listening), only warns and keeps the configured or pinned id', async () => {
    const closed = await freePort();
    const log = recordingLogger();
    const url = `http://127.0.0.1:${closed}`;
    expect(await checkModel({ client: client(url), logger: log.logger })).toEqual({
      id: DEFAULT_MODEL,
      thinking: 'adaptive',
      images: true,
    });
    expect(await checkModel({ client: client(url), configured: 'claude-sonnet-4-5', logger: log.logger })).toEqual({
      id: 'claude-sonnet-4-5',
      thinking: 'budget',
      images: true,
    });
    expect(log.warnings()).toHaveLength(2);
    expect(log.warnings()[0]).toMatch(/could not reach the Models API.*using claude-sonnet-4-6 unchecked/);
  });

  it('a key the API refuses stops the start', async () => {
    await expect(
      checkModel({ client: client(fake.url, 'sk-ant-wrong'), logger: recordingLogger().logger }),
    ).rejects.toThrow(/refused ANTHROPIC_API_KEY/);
  });

  it('createClaudeModel sends the checked model and its thinking mode', async () => {
    fake.script({ content: [{ type: 'text', text: 'hi' }] });
    const m = await createClaudeModel({
      apiKey: 'sk-ant-check',
      baseURL: fake.url,
      model: 'claude-sonnet-4-5',
      templateDir: fileURLToPath(new URL('../../sandbox-template', import.meta.url)),
      logger: recordingLogger().logger,
      maxRetries: 0,
    });
    expect(m.label).toBe('claude-sonnet-4-5');
    await m.generate('a counter', () => {}).catch(() => undefined); // the turn itself is not the point here
    expect(fake.requests[0]!.body).toMatchObject({
      model: 'claude-sonnet-4-5',
      thinking: { type: 'enabled', budget_tokens: 8000 },
      max_tokens: 16000,
    });
  });
});

/** A port nothing listens on (bound, read, released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
