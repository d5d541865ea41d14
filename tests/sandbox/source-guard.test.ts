import { afterAll, describe, expect, it } from 'vitest';
import { SourceVetter } from '../../src/sandbox/source-guard.ts';
import { sourceGuard } from '../../sandbox-template/vibe-plugins/source-guard.ts';

const libs = ['react', 'react-dom', 'lucide-react'];
const vetter = new SourceVetter(libs);
afterAll(() => vetter.close());
const vetSource = (files: Record<string, string>, _libs?: string[]) => vetter.vet(files);

describe('vetSource: imports', () => {
  it('accepts curated packages, their subpaths and relative imports', async () => {
    const files = {
      'src/App.tsx': [
        "import { useState } from 'react';",
        'import {',
        '  Timer,',
        "} from 'lucide-react';",
        "import { createRoot } from 'react-dom/client';",
        "import Thing from './Thing';",
        "import './index.css';",
        "// import _ from 'lodash';",
        "export default function App() { return <p>data from 'somewhere' via http://x.y</p>; }",
      ].join('\n'),
      'src/index.css': '@import "tailwindcss";',
    };
    expect(await vetSource(files, libs)).toEqual([]);
  });

  it('flags packages outside libraries.json with line and column, and missing CSS files', async () => {
    const files = {
      'src/App.tsx': [
        "import React from 'react';",
        "import { produce } from 'immer';",
        "import './missing.css';",
        "const d = await import('@scope/pkg/sub');",
      ].join('\n'),
    };
    const errors = await vetSource(files, libs);
    expect(errors.map((e) => [e.file, e.line, e.column])).toEqual([
      ['src/App.tsx', 2, 26],
      ['src/App.tsx', 3, 9],
      ['src/App.tsx', 4, 25],
    ]);
    expect(errors[0]?.message).toBe(
      "Package 'immer' is not available. The libraries you can import are: react, react-dom, lucide-react",
    );
    expect(errors[1]?.message).toMatch(/missing\.css/);
    expect(errors[2]?.message).toMatch(/'@scope\/pkg'/);
  });
});

/** The one error vetSource reports for `files` (asserting there is exactly one). */
async function onlyError(files: Record<string, string>) {
  const errors = await vetSource(files, libs);
  expect(errors, JSON.stringify(errors)).toHaveLength(1);
  return errors[0]!;
}

describe('vetSource: nothing the model writes runs at build time or reaches outside src/', () => {
  it.each([
    ['?raw of a host file', "import env from '../../../.env?raw';\nexport const x = env;", 1, /query or hash/],
    [
      '?raw of /etc/passwd',
      "import p from '../../../../../../../../etc/passwd?raw';\nexport const x = p;",
      1,
      /query or hash/,
    ],
    ['?url', "import u from './App.tsx?url';\nexport const x = u;", 1, /query or hash/],
    ['?inline', "import c from './index.css?inline';\nexport const x = c;", 1, /query or hash/],
    ['?worker', "import W from './w.ts?worker';\nexport const x = W;", 1, /query or hash/],
    ['a relative path out of src/', "import x from '../vite.config';\nexport const y = x;", 1, /outside src\//],
    ['an absolute path', "import x from '/etc/passwd';\nexport const y = x;", 1, /Absolute import/],
    [
      'a package path climbing out',
      "import x from 'react/../../../etc/passwd';\nexport const y = x;",
      1,
      /not a plain package path/,
    ],
    ['a URL scheme', "import x from 'data:text/javascript,alert(1)';\nexport const y = x;", 1, /not allowed/],
    ['a subpath import', "import x from '#secret';\nexport const y = x;", 1, /query or hash/],
    ['re-export from outside', "export * from '../../server';", 1, /outside src\//],
    [
      'import.meta.glob',
      "export const all = import.meta.glob('/etc/*', { query: '?raw', eager: true });",
      1,
      /import\.meta/,
    ],
    ['new URL(…, import.meta.url)', "export const u = new URL('../../.env', import.meta.url);", 1, /import\.meta/],
    ['a computed dynamic import', "const name = '../../x';\nexport const m = import(name);", 2, /plain string/],
    ['a dynamic import with a query', "export const m = import('./data.json?raw');", 1, /query or hash/],
  ])('refuses %s with file and line', async (_name, code, line, message) => {
    const e = await onlyError({ 'src/App.tsx': code });
    expect(e).toMatchObject({ file: 'src/App.tsx', line });
    expect(e.column).toBeGreaterThan(0);
    expect(e.message).toMatch(message);
  });

  it('allows import.meta.env and import.meta.hot', async () => {
    expect(
      await vetSource(
        { 'src/App.tsx': 'export const dev = import.meta.env.DEV;\nif (import.meta.hot) import.meta.hot.accept();' },
        libs,
      ),
    ).toEqual([]);
  });

  it.each([
    ['@plugin', '@import "tailwindcss";\n@plugin "./x.ts";', 2, /@plugin makes Tailwind load files or run code/],
    ['@config', '@import "tailwindcss";\n@config "../../tailwind.config.js";', 2, /@config/],
    ['@source', '@import "tailwindcss";\n@source "../../../";', 2, /@source/],
    ['source() on the tailwind import', '@import "tailwindcss" source("../..");', 1, /source\(…\)/],
    ['@import of a package', '@import "tailwindcss";\n@import "recharts/styles.css";', 2, /not allowed/],
    ['@import out of src/', '@import "tailwindcss";\n@import "../../secret.css";', 2, /outside src\//],
    ['@import url() out of src/', "@import url('../../x.css');", 1, /outside src\//],
    ['@reference of a host file', '@reference "/etc/passwd";', 1, /not allowed/],
    ['url() of a host file', 'body { background: url(../../../../etc/passwd); }', 1, /outside src\//],
    ['url() with a query', ".a { background: url('./a.svg?raw'); }", 1, /query or hash/],
    ['image-set() out of src/', '.a { background: image-set("../../x.png" 1x); }', 1, /outside src\//],
  ])('refuses CSS %s', async (_name, css, line, message) => {
    const e = await onlyError({ 'src/index.css': css, 'src/a.svg': '<svg/>' });
    expect(e).toMatchObject({ file: 'src/index.css', line });
    expect(e.message).toMatch(message);
  });

  it('allows the CSS an app needs', async () => {
    const css = [
      '@import "tailwindcss";',
      '@import "./theme.css";',
      '/* @plugin "./x.ts"; is only a comment */',
      '@theme { --color-brand: #0ea5e9; }',
      '@utility card { border-radius: 1rem; }',
      '@custom-variant dark (&:where(.dark, .dark *));',
      '.logo { background: url("./logo.svg"), url(data:image/png;base64,AAAA), url(https://example.com/x.png); }',
      '.s { content: "@plugin \'x\'"; }',
      '@font-face { font-family: X; src: url(https://fonts.example.com/x.woff2); }',
    ].join('\n');
    expect(
      await vetSource({ 'src/index.css': css, 'src/theme.css': ':root{}', 'src/logo.svg': '<svg/>' }, libs),
    ).toEqual([]);
  });

  it('refuses configuration files a build tool would read from src/', async () => {
    for (const name of [
      'src/package.json',
      'src/tsconfig.json',
      'src/deep/vite.config.ts',
      'src/postcss.config.js',
      'src/tailwind.config.ts',
    ]) {
      expect((await onlyError({ [name]: '{}' })).message, name).toMatch(/configuration/);
    }
  });

  it('refuses a file that does not parse, pointing at the error', async () => {
    const e = await onlyError({
      'src/App.tsx': "import x from './q?raw';\nexport default function App() {\n  return <div><p>hi</div>;\n}\n",
    });
    expect(e.message).toMatch(/^Syntax error: /);
    expect(e.line).toBe(3);
  });

  it('checks 200 KB of adversarial input of each kind quickly, and survives input that kills the parser', async () => {
    const big = 200 * 1024;
    const inputs: [string, string, string][] = [
      ['comment openers', 'src/App.tsx', '/* '.repeat(big / 3)],
      ['import keywords', 'src/App.tsx', 'import '.repeat(big / 7)],
      ['unclosed strings', 'src/App.tsx', "'".repeat(big)],
      ['from clauses', 'src/App.tsx', 'import { a, b, c } from '.repeat(big / 24)],
      ['deep parens', 'src/App.tsx', '('.repeat(big)],
      ['arrow parameters', 'src/App.tsx', '(a=('.repeat(big / 4)],
      ['jsx text', 'src/App.tsx', `export const x = <p>${"don't import from 'x' ".repeat(big / 23)}</p>;`],
      ['deep jsx', 'src/App.tsx', `export const x = ${'<a>'.repeat(big / 7)}${'</a>'.repeat(big / 7)};`],
      ['unary chain', 'src/App.tsx', `export const x = ${'!'.repeat(big)}1;`],
      ['arrow chain', 'src/App.tsx', `export const f = ${'x=>'.repeat(big / 3)}1;`],
      ['many statements', 'src/App.tsx', 'a;'.repeat(big / 2)],
      ['css comment openers', 'src/index.css', '/* '.repeat(big / 3)],
      ['css at signs', 'src/index.css', '@'.repeat(big)],
      ['css url openers', 'src/index.css', 'url('.repeat(big / 4)],
      ['css image-set', 'src/index.css', 'image-set('.repeat(big / 10)],
      ['css quotes', 'src/index.css', '"'.repeat(big)],
    ];
    await vetSource({ 'src/warm.tsx': 'export const a = 1;' }); // the parser's process is started
    const timings: string[] = [];
    for (const [name, file, text] of inputs) {
      await vetSource({ 'src/warm.tsx': 'export const a = 1;' }); // a parser is up (an earlier input may have ended the last one)
      const t = performance.now();
      const errors = await vetSource({ [file]: text });
      const ms = performance.now() - t;
      timings.push(`${name} ${ms.toFixed(0)} ms`);
      // Each is refused or passes; none hangs, none takes the test process down. Generous bound
      // for a shared 2-core machine: quadratic behaviour takes seconds here.
      expect(ms, name).toBeLessThan(1500);
      if (file.endsWith('.tsx') && !['jsx text', 'many statements'].includes(name))
        expect(errors.length, name).toBeGreaterThan(0);
    }
    console.info(`source check of 200 KB adversarial files: ${timings.join(', ')}`);
    // The parser is back for the next file after one that killed it.
    expect(await vetSource({ 'src/App.tsx': "import { useState } from 'react';\nexport const x = useState;" })).toEqual(
      [],
    );
  });
});
