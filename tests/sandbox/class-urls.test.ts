import { afterAll, describe, expect, it } from 'vitest';
import { scanCss } from '../../src/sandbox/css-scan.ts';
import { SourceVetter } from '../../src/sandbox/source-guard.ts';

// A Tailwind arbitrary value that names a file, anywhere Tailwind scans (any file under src/,
// comments included) or in a CSS at-rule's prelude (@apply), made the production build read
// that file and inline it into the published CSS. The source check refuses them all.

const vetter = new SourceVetter(['react']);
afterAll(() => vetter.close());

const APP = 'export default function App() { return null; }\n';

async function errorsOf(files: Record<string, string>) {
  return vetter.vet(files);
}

describe('the source check refuses file URLs in Tailwind classes, in any file Tailwind scans', () => {
  it.each([
    ['a comment in App.tsx (the exact input)', 'src/App.tsx', `// bg-[url(../../../../.env)]\n${APP}`, 1],
    ['a className', 'src/App.tsx', `${APP}export const A = () => <p className="bg-[url(/proc/self/environ)]" />;\n`, 2],
    ['mask-image', 'src/App.tsx', `const c = 'p-2 [mask-image:url(../../../../etc/passwd)]';\n${APP}`, 1],
    ['content', 'src/App.tsx', `const c = "[content:url(/proc/self/cmdline)]";\n${APP}`, 1],
    ['bg-[image:url()]', 'src/App.tsx', `const c = \`bg-[image:url(/etc/passwd)]\`;\n${APP}`, 1],
    ['url(/etc/passwd)', 'src/App.tsx', `/* bg-[url(/etc/passwd)] */\n${APP}`, 1],
    ['a quoted url', 'src/App.tsx', `// bg-[url('../../../../.env')]\n${APP}`, 1],
    ['upper case', 'src/App.tsx', `// BG-[URL(../../../../.env)]\n${APP}`, 1],
    ['image-set with a string', 'src/App.tsx', `// bg-[image-set("../../../../.env"_1x)]\n${APP}`, 1],
    ['image-set with a bare path', 'src/App.tsx', `// bg-[image-set(../../../../.env_1x)]\n${APP}`, 1],
    ['-webkit-image-set with url()', 'src/App.tsx', `// bg-[-webkit-image-set(url(/etc/passwd)_1x)]\n${APP}`, 1],
    ['a variant in front', 'src/App.tsx', `// hover:[&>p]:bg-[url(../vite.config.ts)]\n${APP}`, 1],
    ['a query', 'src/App.tsx', `// bg-[url(./logo.svg?inline)]\n${APP}`, 1],
    [
      'a file under src/ (resolved against the CSS, not this file)',
      'src/App.tsx',
      `// bg-[url(./logo.svg)]\n${APP}`,
      1,
    ],
    ['a .md file', 'src/notes.md', '# Notes\n\nbg-[url(../../../../.env)]\n', 3],
    ['a .json file', 'src/data.json', '{ "c": "[mask-image:url(/proc/self/environ)]" }\n', 1],
    ['an .svg file', 'src/icon.svg', '<svg class="[content:url(../../proc/self/mountinfo)]"/>\n', 1],
    ['an .html file', 'src/page.html', '<p class="bg-[url(/etc/passwd)]"></p>\n', 1],
    ['a .txt file', 'src/a.txt', 'x\ny bg-[url(../../../../.env)]\n', 2],
  ])('%s', async (_name, file, text, line) => {
    const errors = await errorsOf({ [file]: text, 'src/logo.svg': '<svg/>' });
    expect(errors, JSON.stringify(errors)).toHaveLength(1);
    expect(errors[0]).toMatchObject({ file, line });
    expect(errors[0]!.message).toMatch(/in a Tailwind class .* names a file/);
    expect(errors[0]!.message).toMatch(/import bg from '\.\/bg\.svg'/);
  });

  it('allows data:, https:, http: and # targets, and url() outside brackets', async () => {
    const text = [
      "const a = 'bg-[url(data:image/svg+xml;base64,PHN2Zy8+)] [mask-image:url(#mask)]';",
      "const b = 'bg-[url(https://example.com/a.png)] bg-[image:url(http://example.com/b.png)]';",
      'const c = \'bg-[image-set("https://example.com/a.png"_1x,url(data:,)_2x)]\';',
      "export const s = { backgroundImage: 'url(./x.png)' }; // style, resolved by the browser",
      'export const items = [1, 2, 3];',
      APP,
    ].join('\n');
    const md = 'See [the docs](./docs.md) and ![logo](https://example.com/a.png).\n';
    expect(await errorsOf({ 'src/App.tsx': text, 'src/README.md': md })).toEqual([]);
  });
});

describe('the source check refuses file URLs in CSS at-rule preludes, strings and bare image-set()', () => {
  it.each([
    ['@apply (the exact input)', '.x { @apply bg-[url(../../proc/self/cmdline)]; }', 1, /inside @apply names a file/],
    ['@apply mask-image', '.x {\n  @apply [mask-image:url(/proc/self/environ)];\n}', 2, /inside @apply/],
    ['@apply content', '.x { @apply [content:url(../../../../.env)]; }', 1, /inside @apply/],
    ['@apply bg-[image:url()]', '.x { @apply bg-[image:url(/etc/passwd)]; }', 1, /inside @apply/],
    ['@apply image-set', '.x { @apply bg-[image-set("/etc/passwd"_1x)]; }', 1, /inside @apply/],
    ['@apply a file under src/', '.x { @apply bg-[url(./logo.svg)]; }', 1, /inside @apply/],
    ['@utility', '@utility hero {\n  @apply bg-[url(/etc/passwd)];\n}', 2, /inside @apply/],
    ['@variant', '.x { @variant hover { @apply bg-[url(../vite.config.ts)]; } }', 1, /inside @apply/],
    ['@supports', '@supports (background: url(/etc/passwd)) { .x { color: red; } }', 1, /inside @supports/],
    ['a url() in a string', '.x { content: "url(../../../../etc/hostname)"; }', 1, /outside src\//],
    ['a bare image-set candidate', '.x { background: image-set(../../../../.env 1x); }', 1, /outside src\//],
    [
      'a second image-set candidate',
      '.x { background: image-set("./logo.svg" 1x, /etc/passwd 2x); }',
      1,
      /not allowed/,
    ],
  ])('%s', async (_name, css, line, message) => {
    const errors = await errorsOf({ 'src/extra.css': css, 'src/logo.svg': '<svg/>' });
    expect(errors, JSON.stringify(errors)).toHaveLength(1);
    expect(errors[0]).toMatchObject({ file: 'src/extra.css', line });
    expect(errors[0]!.message).toMatch(message);
  });

  it('allows @apply with data:/https: URLs, image-set descriptors and type(), and @import targets', async () => {
    const css = [
      '@import "tailwindcss";',
      '@import url("./theme.css") layer(theme);',
      '.a { @apply bg-[url(data:image/png;base64,AAAA)] hover:bg-[url(https://example.com/x.png)]; }',
      '.b { background: image-set("./logo.svg" type("image/svg+xml") 1x, url(./logo.svg) 2x, ./logo.svg 3x); }',
      '.c { content: "a url is written url(https://example.com)"; }',
    ].join('\n');
    expect(await errorsOf({ 'src/index.css': css, 'src/theme.css': ':root{}', 'src/logo.svg': '<svg/>' })).toEqual([]);
  });

  it('scans strings, preludes and bare candidates in one linear pass', () => {
    const found = scanCss('@apply bg-[url(/a)]; .x { content: "url(/b)"; background: image-set(/c 1x, "/d" 2x); }');
    expect(found.filter((f) => f.kind === 'url').map((f) => [f.target, f.kind === 'url' && f.prelude])).toEqual([
      ['/a', 'apply'],
      ['/b', undefined],
      ['/c', undefined],
      ['/d', undefined],
    ]);
  });
});

describe('adversarial input for the class and prelude scans', () => {
  it.each([
    ['bracket openers', 'src/a.md', '[url('.repeat(40_000)],
    ['brackets', 'src/a.md', `${'['.repeat(100_000)}url(/x)`],
    ['image-set openers in brackets', 'src/a.json', `[${'image-set('.repeat(20_000)}/x`],
    ['url in a string in a bracket', 'src/App.tsx', `// [content:"${'url('.repeat(40_000)}"]`],
    ['many short lines', 'src/a.txt', 'a [url(/x)]\n'.repeat(16_000)],
    ['@apply with brackets', 'src/a.css', `.x { @apply ${'[url('.repeat(40_000)} }`],
    ['strings with image-set', 'src/a.css', `.x { content: "${'image-set( '.repeat(18_000)}/x"; }`],
  ])('%s (200 KB) is refused without hanging', async (_name, file, text) => {
    const errors = await errorsOf({ [file]: text });
    expect(errors.length).toBeGreaterThan(0);
  });
});
