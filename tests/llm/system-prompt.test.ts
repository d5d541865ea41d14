import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildSystemPrompt, loadTemplate } from '../../src/llm/system-prompt.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vibe-template-'));
  await mkdir(join(dir, 'src', 'assets'), { recursive: true });
  await writeFile(join(dir, 'src', 'App.tsx'), 'export default function App() { return null; }\n');
  await writeFile(join(dir, 'src', 'main.tsx'), "import App from './App';\n");
  await writeFile(join(dir, 'src', 'assets', 'logo.png'), 'binary');
  await writeFile(join(dir, 'package.json'), '{}');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadTemplate', () => {
  it('reads src/** as src/ paths (only file types an app may hold) and the library list', async () => {
    await writeFile(join(dir, 'libraries.json'), JSON.stringify([{ name: 'react', version: '19.3.1', use: 'UI' }]));
    const t = await loadTemplate(dir);
    expect(Object.keys(t.templateFiles).sort()).toEqual(['src/App.tsx', 'src/main.tsx']);
    expect(t.templateFiles['src/main.tsx']).toBe("import App from './App';\n");
    expect(t.libraries).toEqual([{ name: 'react', version: '19.3.1', use: 'UI' }]);
  });

  it('accepts {libraries: [...]} and {name: {version, use}} shapes', async () => {
    await writeFile(
      join(dir, 'libraries.json'),
      JSON.stringify({ libraries: [{ name: 'clsx', version: '2.1.1', use: 'class names' }] }),
    );
    expect((await loadTemplate(dir)).libraries).toEqual([{ name: 'clsx', version: '2.1.1', use: 'class names' }]);
    await writeFile(
      join(dir, 'libraries.json'),
      JSON.stringify({ clsx: { version: '2.1.1', use: 'class names' }, react: '19.3.1' }),
    );
    expect((await loadTemplate(dir)).libraries).toEqual([
      { name: 'clsx', version: '2.1.1', use: 'class names' },
      { name: 'react', version: '19.3.1', use: '' },
    ]);
  });

  it('fails readably on a malformed library list', async () => {
    await writeFile(join(dir, 'libraries.json'), JSON.stringify([{ version: '1' }]));
    await expect(loadTemplate(dir)).rejects.toThrow(/libraries\.json: expected a list/);
  });

  it('loads the real sandbox template', async () => {
    const t = await loadTemplate(fileURLToPath(new URL('../../sandbox-template', import.meta.url)));
    expect(t.templateFiles['src/App.tsx']).toContain('export default');
    expect(t.libraries.map((l) => l.name)).toContain('react');
  });
});

describe('buildSystemPrompt', () => {
  it('carries the stack, the template files, the only libraries and the rules', () => {
    const text = buildSystemPrompt({
      templateFiles: {
        'src/main.tsx': 'createRoot(root).render(<App />);',
        'src/App.tsx': 'export default function App() {}',
      },
      libraries: [
        { name: 'react', version: '19.3.1', use: 'UI' },
        { name: 'lucide-react', version: '1.79.0', use: 'icons' },
      ],
    });
    for (const needle of [
      'React 19',
      'Tailwind CSS v4',
      'no network calls',
      'localStorage',
      '<file path="src/main.tsx">\ncreateRoot(root).render(<App />);\n</file>',
      '- lucide-react@1.79.0: icons',
      'You may import ONLY these packages',
      'under `src/`',
      'default-exports',
      '`str_replace`',
      'set_app_info',
      'type-correct',
    ]) {
      expect(text).toContain(needle);
    }
    expect(text.indexOf('src/App.tsx')).toBeLessThan(text.indexOf('src/main.tsx')); // stable order, cache-friendly
  });
});

describe('prompt caching', () => {
  it('the system prompt of the real template is long enough to be cached', async () => {
    const { loadTemplate, buildSystemPrompt } = await import('../../src/llm/system-prompt.ts');
    const { TEMPLATE_DIR } = await import('../../src/template.ts');
    const prompt = buildSystemPrompt(await loadTemplate(TEMPLATE_DIR));
    // Sonnet caches a prefix of at least 1,024 tokens; below that cache_control is silently ignored
    // and every request pays for the whole prompt. ~4 characters a token, with a margin.
    expect(prompt.length).toBeGreaterThan(4_800);
  });
});
