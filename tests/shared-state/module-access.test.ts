import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OfflineSampleModel } from '../../src/llm/offline.ts';
import { buildSystemPrompt, loadTemplate } from '../../src/llm/system-prompt.ts';
import { vetSpecifier } from '../../src/sandbox/source-guard.ts';
import { sourceGuard } from '../../sandbox-template/vibe-plugins/source-guard.ts';
import { TEMPLATE_DIR } from '../../src/template.ts';

// How an app gets at `@vibe/shared`: the bot's source check lets that one name through (and
// nothing that looks like it), the template's build guard lets its folder be read, the model is
// told about it, and the offline model answers poll-like prompts with the shared sample.

describe('@vibe/shared as an import', () => {
  const libs = ['react'];
  it('is allowed by exactly that name', () => {
    expect(vetSpecifier('src/App.tsx', '@vibe/shared', {}, libs)).toBeUndefined();
    for (const other of ['@vibe/shared/client', '@vibe/shared?raw', '@vibe/other', '@vibe/shared/../../src'])
      expect(vetSpecifier('src/App.tsx', other, {}, libs), other).toBeDefined();
  });

  it("is a file the template's build guard reads only from its own folder, and never as text", () => {
    const file = join(TEMPLATE_DIR, 'vibe-shared', 'index.ts');
    type Hook = (...args: unknown[]) => unknown;
    const hook = (h: unknown): Hook => (typeof h === 'function' ? (h as Hook) : (h as { handler: Hook }).handler);
    const load = (extra: string[], id: string) => {
      const guard = sourceGuard(extra);
      const { build } = hook(guard.files.config)() as { build: unknown };
      const names = ['vibe:source-guard', '@tailwindcss/vite:generate:build', 'vibe:css-guard'];
      const config = {
        root: '/nonexistent-app',
        cacheDir: '/nonexistent-cache',
        build,
        plugins: names.map((name) => ({ name })),
      };
      hook(guard.files.configResolved).call({}, config);
      return hook(guard.files.load).call({}, id);
    };
    expect(() => load([], file)).toThrow(/outside the app/);
    expect(load([join(TEMPLATE_DIR, 'vibe-shared')], file)).toBeNull();
    expect(() => load([join(TEMPLATE_DIR, 'vibe-shared')], `${file}?raw`)).toThrow(/only the app's own src/);
  });
});

describe('the model is told', () => {
  it('the API, an example, when to use it and when not, to read defensively, and when to ask a name', async () => {
    const prompt = buildSystemPrompt(await loadTemplate(TEMPLATE_DIR));
    expect(prompt).toContain('import `@vibe/shared`');
    expect(prompt).toContain('export function useSharedList<T>(name: string)');
    expect(prompt).toMatch(/votes\.put\(me\.id/);
    expect(prompt).toMatch(/Not for one person's drafts, settings/);
    expect(prompt).toMatch(/written by an earlier version of the app: read it defensively/);
    expect(prompt).toMatch(/Ask for the viewer's name .* only when the app shows who did what/);
  });

  it('and the offline model answers a poll with the shared lunch poll', () => {
    const model = new OfflineSampleModel({ delayMs: 0 });
    for (const prompt of ['a team lunch poll', 'let us vote on where to eat', 'a quick survey for the team'])
      expect(model.pick(prompt).id, prompt).toBe('lunchpoll');
    expect(model.pick('a pomodoro timer').id).toBe('pomodoro');
    expect(model.pick('a todo list').id).toBe('todo');
  });
});
