import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.ts';
import { assertValidFiles } from '../../src/core/files.ts';
import type { ModelProgress } from '../../src/core/ports/index.ts';
import { OfflineSampleModel } from '../../src/llm/offline.ts';
import { ALL_SAMPLES, DEFAULT_SAMPLE_ID } from '../../src/llm/samples/all-samples.ts';
import { chooseSample, keywordMatches } from '../../src/llm/samples/choose-sample.ts';
import { TEMPLATE_TSC, makeSampleWorkspace, removeWorkspace, templateReady } from './sample-workspace.ts';
import { ci } from '../support/needs.ts';

const run = promisify(execFile);

describe('OfflineSampleModel: choosing a sample', () => {
  const model = new OfflineSampleModel({ delayMs: 0 });

  it.each([
    ['a pomodoro timer with a dark theme', 'pomodoro'],
    ['Focus timer for studying', 'pomodoro'],
    ['a to-do list app', 'todo'],
    ['Checklist for my chores', 'todo'],
    ['a simple calculator', 'calculator'],
    ['something to do maths and multiply numbers', 'calculator'],
    ['expense tracker with a pie chart', 'expenses'],
    ['help me budget my monthly spending', 'expenses'],
    ['Tic-Tac-Toe!', 'tictactoe'],
    ['a game to play with friends', 'tictactoe'],
    ['weather dashboard for a few cities', 'weather'],
    ['7-day forecast with temperatures', 'weather'],
    ['a pomodoro timer with a todo list', 'pomodoro'],
  ])('%s -> %s', (prompt, id) => {
    expect(model.pick(prompt).id).toBe(id);
  });

  it('falls back to the todo list when nothing matches', () => {
    expect(DEFAULT_SAMPLE_ID).toBe('todo');
    expect(model.pick('zxqv blorp').id).toBe('todo');
    expect(model.pick('').id).toBe('todo');
    // Short keywords are whole words: "sunday" is not "sun", "listen" is not "list", "address" is not anything.
    expect(model.pick('listen on sunday to the address').id).toBe('todo');
  });

  it('matches short keywords as whole words and long ones as stems', () => {
    expect(keywordMatches('games', 'game')).toBe(true);
    expect(keywordMatches('gamer', 'game')).toBe(false);
    expect(keywordMatches('calculator', 'calculat')).toBe(true);
  });

  it('uses the fallback it is given', () => {
    expect(chooseSample('nothing relevant', ALL_SAMPLES, 'weather').id).toBe('weather');
  });
});

describe('OfflineSampleModel: turns', () => {
  it('streams one progress event per file, App.tsx last, and returns the sample', async () => {
    const model = new OfflineSampleModel({ delayMs: 0 });
    expect(model.label).toBe('offline sample model');
    expect(model.offline).toBe(true);
    const events: ModelProgress[] = [];
    const turn = await model.generate('a pomodoro timer with a dark theme', (p) => events.push(p));
    const sample = ALL_SAMPLES.find((s) => s.id === 'pomodoro')!;
    expect(turn.files).toEqual(sample.files);
    expect(turn.title).toBe('Pomodoro Timer');
    expect(turn.summary).toBe(sample.summary);
    expect(turn.message).toMatch(/offline sample model/i);
    expect(turn.message).toMatch(/ANTHROPIC_API_KEY/);
    expect(turn.usage).toEqual({ inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 });
    const paths = Object.keys(sample.files);
    expect(events).toHaveLength(paths.length);
    expect(events.at(-1)).toEqual({
      kind: 'file',
      path: 'src/App.tsx',
      files: expect.arrayContaining(paths),
      snapshot: expect.objectContaining(Object.fromEntries(paths.map((p) => [p, expect.any(String)]))),
    });
    events.forEach((e, i) => expect(e.kind === 'file' && e.files.length).toBe(i + 1));

    // It cannot repair, and never needs to: the same files come back.
    const repaired = await turn.repair([{ file: 'src/App.tsx', line: 1, column: 1, message: 'TS1005' }], () => {});
    expect(repaired.files).toEqual(sample.files);
    expect(repaired.usage.outputTokens).toBe(0);
  });

  it('gives each caller its own copy of the files', async () => {
    const model = new OfflineSampleModel({ delayMs: 0 });
    const first = await model.generate('calculator', () => {});
    first.files['src/App.tsx'] = 'broken';
    const second = await model.generate('calculator', () => {});
    expect(second.files['src/App.tsx']).toContain('export default function App');
  });

  it('waits delayMs between files', async () => {
    const model = new OfflineSampleModel({ delayMs: 30 });
    const times: number[] = [];
    const start = Date.now();
    await model.generate('todo', () => times.push(Date.now() - start));
    expect(times.length).toBeGreaterThanOrEqual(2);
    expect(times.at(-1)!).toBeGreaterThanOrEqual(30 * times.length - 5);
  });

  it('stops when the signal aborts', async () => {
    const model = new OfflineSampleModel({ delayMs: 50 });
    const events: ModelProgress[] = [];
    const controller = new AbortController();
    const pending = model.generate('expense tracker', (p) => events.push(p), controller.signal);
    setTimeout(() => controller.abort(new Error('user cancelled')), 70);
    await expect(pending).rejects.toThrow('user cancelled');
    expect(events).toHaveLength(1);

    const already = new AbortController();
    already.abort();
    await expect(model.generate('todo', () => {}, already.signal)).rejects.toThrow();
  });

  it('refuses to refine, saying why and what to do', async () => {
    const model = new OfflineSampleModel({ delayMs: 0 });
    const turn = await model.generate('todo', () => {});
    const attempt = model.refine(turn.files, { kind: 'change', instruction: 'make it blue' }, () => {});
    await expect(attempt).rejects.toBeInstanceOf(UserError);
    await expect(attempt).rejects.toThrow(/offline sample model/);
    await expect(attempt).rejects.toThrow(/ANTHROPIC_API_KEY/);
  });
});

describe('the samples', () => {
  it('are at least five, with distinct ids', () => {
    expect(ALL_SAMPLES.length).toBeGreaterThanOrEqual(5);
    expect(new Set(ALL_SAMPLES.map((s) => s.id)).size).toBe(ALL_SAMPLES.length);
  });

  it.each(ALL_SAMPLES.map((s) => [s.id, s] as const))(
    '%s has valid files, a default App and its title in an <h1>',
    (_id, sample) => {
      assertValidFiles(sample.files);
      expect(Object.keys(sample.files).every((p) => p.startsWith('src/'))).toBe(true);
      expect(sample.files['src/main.tsx']).toBeUndefined(); // comes from the template
      expect(sample.files['src/App.tsx']).toMatch(/export default function App\b/);
      const h1 = Object.values(sample.files)
        .join('\n')
        .match(/<h1[^>]*>([\s\S]*?)<\/h1>/);
      expect(h1?.[1]).toContain(sample.title);
      expect(sample.keywords.length).toBeGreaterThan(0);
      expect(sample.keywords.every((k) => k === k.toLowerCase())).toBe(true);
      // Only the template's libraries may be imported.
      const imports = Object.values(sample.files).flatMap((t) =>
        [...t.matchAll(/from '([^'.][^']*)'/g)].map((m) => m[1]),
      );
      for (const spec of imports)
        expect(['react', 'react-dom', 'lucide-react', 'recharts', '@vibe/shared']).toContain(spec);
    },
  );
});

// Never skipped under CI: a sample that does not compile would make every offline build fail.
describe.runIf(templateReady || ci)('the samples type-check against the sandbox template', () => {
  let dir: string | undefined;
  afterEach(() => {
    removeWorkspace(dir);
    dir = undefined;
  });

  it.each(ALL_SAMPLES.map((s) => [s.id, s] as const))(
    '%s compiles with tsc --noEmit',
    async (_id, sample) => {
      dir = makeSampleWorkspace(sample.files);
      const result = await run(TEMPLATE_TSC, ['--noEmit', '-p', dir]).then(
        (r) => ({ code: 0, out: r.stdout + r.stderr }),
        (e: { code?: number; stdout?: string; stderr?: string }) => ({
          code: e.code ?? -1,
          out: `${e.stdout ?? ''}${e.stderr ?? ''}`,
        }),
      );
      expect(result.out).toBe('');
      expect(result.code).toBe(0);
    },
    60_000,
  );
});
