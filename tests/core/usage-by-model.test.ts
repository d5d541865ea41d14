import { afterEach, beforeEach, expect, it } from 'vitest';
import type { AppRuntime } from '../../src/core/apps/app-runtime.ts';
import type { AppStore, CodeModel, Logger, ProgressListener } from '../../src/core/ports/index.ts';
import { UsageMeter } from '../../src/core/limits/usage-meter.ts';
import { openAppStore } from '../../src/store/open.ts';
import { MemorySandbox } from '../support/memory-sandbox.ts';
import { RecordingConversation } from '../support/recording-conversation.ts';
import { ScriptedModel } from '../support/scripted-model.ts';
import { testBot, testRuntime } from '../support/test-bot.ts';

// Tokens per model, thinking included: in `/vibe usage` and in the build's usage log line.

const APP = { 'src/App.tsx': 'export default function App() { return <h1>x</h1>; }\n' };
let store: AppStore;
let runtime: AppRuntime;
beforeEach(async () => {
  store = await openAppStore('memory://');
  runtime = testRuntime({ store, sandbox: new MemorySandbox() });
});
afterEach(async () => {
  await runtime.stopAll();
  await store.close();
});

/** The scripted model under another name, each request reporting 4 of its output tokens as thinking. */
function thinkingModel(label: string, scripted: ScriptedModel): CodeModel {
  const think =
    (on: ProgressListener): ProgressListener =>
    (p) =>
      on(p.kind === 'usage' ? { ...p, usage: { ...p.usage, thinkingTokens: 4 } } : p);
  return {
    label,
    offline: false,
    generate: (prompt, on, signal, images) => scripted.generate(prompt, think(on), signal, images),
    refine: (files, text, on, signal, images) => scripted.refine(files, text, think(on), signal, images),
  };
}

it('/vibe usage and the build usage log line show tokens per model, thinking included', async () => {
  const lines: { obj: Record<string, unknown>; msg?: string }[] = [];
  const keep = (obj: object, msg?: string) => void lines.push({ obj: obj as Record<string, unknown>, msg });
  const logger: Logger = { info: keep, warn: keep, error: keep, debug: () => {} };
  const scripted = new ScriptedModel().script({ files: APP, title: 'A' }, { files: APP, title: 'B' });
  const meter = new UsageMeter(store, { 'claude-sonnet-4-6': { input: 3, output: 15 } });
  const bot = testBot({ store, model: thinkingModel('claude-x', scripted), runtime, meter, logger });
  const conv = new RecordingConversation('slack:T1:C1');
  const ctx = { conv, actor: { id: 'slack:T1:U1' }, channelId: conv.channelId };
  await bot.command(ctx, 'app a');
  await bot.command(ctx, 'app b');
  await bot.command(ctx, 'usage');
  const card = conv.cards('ephemeral').at(-1)!;
  // Each build: 10 in, 10 out (4 of it thinking); a priced model never used is left out.
  expect(card.fields?.find((f) => f.label === 'Your tokens today by model')?.value).toBe(
    'claude-x: 20 in, 20 out (8 of it thinking)',
  );
  const build = lines.filter((l) => l.msg === 'build usage').map((l) => l.obj.build as Record<string, unknown>);
  expect(build).toHaveLength(2);
  expect(build[0]!.tokensByModel).toEqual({
    'claude-x': { inputTokens: 10, outputTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 0, thinkingTokens: 4 },
  });
});
