// Vite's pre-bundled dependencies are made once per provider, by a sandbox that runs only the
// template, and every isolated sandbox starts with them: its dev server serves the seed's
// bundles as they are instead of bundling React and recharts again on the cores a create needs.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DepsSeed } from '../../src/sandbox/deps-seed.ts';
import { needs } from '../support/needs.ts';
import { recordingLogger, templateFiles, useLocalProvider } from './sandbox-test-kit.ts';

describe('the dependency seed', () => {
  it('is made once however many boots ask, and is gone after remove', async () => {
    let made = 0;
    const seed = new DepsSeed(async (dir) => {
      made++;
      const { mkdirSync, writeFileSync } = await import('node:fs');
      mkdirSync(`${dir}/deps`);
      writeFileSync(`${dir}/deps/_metadata.json`, '{}');
    }, recordingLogger());
    const [a, b] = await Promise.all([seed.get(), seed.get()]);
    expect(a).toBe(b);
    expect(await seed.get()).toBe(a);
    expect(made).toBe(1);
    expect(existsSync(`${a}/_metadata.json`)).toBe(true);
    await seed.remove();
    expect(existsSync(a!)).toBe(false);
  });

  it('still being made when the provider closes is stopped, not waited for, and its folder goes', async () => {
    let folder = '';
    const seed = new DepsSeed(
      (dir, signal) =>
        new Promise<void>((_, reject) => {
          folder = dir;
          signal.addEventListener('abort', () => reject(new Error('stopped')));
        }),
      recordingLogger(),
    );
    const asked = seed.get();
    await seed.remove();
    expect(await asked).toBeUndefined();
    expect(existsSync(folder)).toBe(false);
  });

  it('that cannot be made leaves boots to go on without it, and says so', async () => {
    const logger = recordingLogger();
    const seed = new DepsSeed(async () => {
      throw new Error('no optimizer here');
    }, logger);
    expect(await seed.get()).toBeUndefined();
    expect(logger.entries.some((e) => e.level === 'warn' && /could not be made/.test(e.msg ?? ''))).toBe(true);
    await seed.remove();
  });
});

describe.runIf(needs('bwrap', 'template'))('isolated sandboxes start with the seed', () => {
  const logger = recordingLogger();
  const local = useLocalProvider('vibe-deps-seed-', logger);
  /** What the sandboxes' dev servers said about bundling dependencies (Vite logs every run of its optimizer). */
  const optimizerLines = () =>
    logger.entries
      .map((e) => (e.obj as { line?: string }).line ?? '')
      .filter((line) => /optimizer|bundling dependencies|optimizing dependencies/i.test(line));
  const metadata = async (id: string) => {
    const r = await local().run(id, ['/bin/cat', '/cache/deps/_metadata.json']);
    return JSON.parse(r.stdout) as { browserHash: string; optimized: Record<string, unknown> };
  };

  it("serves the seed's bundles and never bundles them itself", { timeout: 120_000 }, async () => {
    const app = { ...templateFiles(), 'src/App.tsx': 'export default function App() { return <p>Seeded</p>; }\n' };
    const first = await local().boot('seeded1', app);
    const second = await local().boot('seeded2', app);
    // The dev page and its React, as the creator's browser asks for them.
    for (const { url } of [first, second]) {
      const page = await fetch(`${url}dev/`);
      expect(page.status).toBe(200);
      const main = await (await fetch(`${url}dev/src/main.tsx`)).text();
      const react = /from "([^"]*\/deps\/react_jsx-dev-runtime\.js\?v=[^"]+)"/.exec(main)?.[1];
      expect(react).toBeTruthy();
      expect((await fetch(new URL(react!, url))).status).toBe(200);
    }
    // Both hold the seed's bundles, and neither dev server ran its optimizer.
    const [a, b] = [await metadata(first.id), await metadata(second.id)];
    expect(a.browserHash).toBe(b.browserHash);
    expect(Object.keys(a.optimized)).toEqual(expect.arrayContaining(['react', 'react-dom/client', 'recharts']));
    await new Promise((r) => setTimeout(r, 1000)); // Vite's optimizer, had it started, says so by now
    expect(optimizerLines()).toEqual([]);
  });
});
