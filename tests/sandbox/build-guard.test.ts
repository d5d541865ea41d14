// The template's build guard (sandbox-template/vibe-plugins/source-guard.ts) on its own: what it
// lets Vite read, checked hook by hook, then real `vite build`s of an unisolated app dir (the
// layout VIBE_ISOLATION=none uses) with the bot's source check out of the way, one guard layer at
// a time switched off to show that each of the others still holds.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourceGuard } from '../../sandbox-template/vibe-plugins/source-guard.ts';
import { prepareAppDir } from '../../src/sandbox/app-dir.ts';
import { tempDir, templateDir, templateFiles } from './sandbox-test-kit.ts';

type Hook = (...args: unknown[]) => unknown;
type Plugin = ReturnType<typeof sourceGuard>['files'];
const hook = (p: Plugin, name: 'load' | 'configResolved' | 'config' | 'transform'): Hook => {
  const h = p[name] as Hook | { handler: Hook };
  return typeof h === 'function' ? h : h.handler;
};

/** A guard configured as Vite would for an app at /app (nothing there exists on this host). */
function configured(plugins = ['vibe:source-guard', '@tailwindcss/vite:generate:build', 'vibe:css-guard']) {
  const guard = sourceGuard();
  const { build } = hook(guard.files, 'config')() as { build: { assetsInlineLimit: (f: string) => unknown } };
  const config = { root: '/app', cacheDir: '/cache', build, plugins: plugins.map((name) => ({ name })) };
  hook(guard.files, 'configResolved').call({}, config);
  return { guard, inline: build.assetsInlineLimit };
}

describe('the build guard, hook by hook', () => {
  let guard: ReturnType<typeof sourceGuard>;
  let inline: (file: string) => unknown;
  beforeAll(() => void ({ guard, inline } = configured()));
  const load = (id: string) => hook(guard.files, 'load').call({}, id);
  const css = (code: string, id = '/app/src/index.css') => hook(guard.css, 'transform').call({}, code, id);

  it('refuses modules outside src/ (template files included), and ?raw/?url of anything but src/', () => {
    expect(() => load('/etc/passwd')).toThrow(/refused to load \/etc\/passwd/);
    expect(() => load('/etc/passwd?raw')).toThrow(/refused/);
    expect(() => load('/app/node_modules/react/index.js?url')).toThrow(/only the app's own src/);
    expect(() => load('/proc/self/environ')).toThrow(/refused/);
  });

  it('lets the app, its dependencies, virtual modules and its own ?raw through', () => {
    expect(load('/app/src/App.tsx')).toBeNull();
    expect(load('/app/src/notes.md?raw')).toBeNull();
    expect(load('/app/node_modules/react/index.js')).toBeNull();
    expect(load('\0virtual:thing')).toBeNull();
    expect(load('/@react-refresh')).toBeNull();
  });

  it('assetsInlineLimit refuses to read any file outside src/, node_modules and the cache', () => {
    expect(() => inline('/proc/self/environ')).toThrow(/refused to read \/proc\/self\/environ as an asset/);
    expect(() => inline('/app/vite.config.ts')).toThrow(/refused/);
    expect(() => inline('/app/index.html')).toThrow(/refused/);
    expect(() => inline('/app/src/../package.json')).toThrow(/refused/);
    expect(inline('/app/src/logo.svg')).toBeUndefined();
    expect(inline('/app/node_modules/x/a.png')).toBeUndefined();
  });

  it.each([
    [
      '.x{background-image:url(../../../../.env)}',
      /url\(\.\.\/\.\.\/\.\.\/\.\.\/\.env\) in src\/index\.css: it names \/\.env/,
    ],
    ['.x{background:url(/proc/self/environ)}', /names \/app\/proc\/self\/environ/],
    ['.x{mask-image:url("../vite.config.ts")}', /names \/app\/vite\.config\.ts/],
    ['.x{content:"url(../package.json)"}', /names \/app\/package\.json/],
    ['.x{background:image-set("../index.html" 1x)}', /names \/app\/index\.html/],
    ['.x{background:image-set(../../etc/passwd 1x)}', /names \/etc\/passwd/],
    ['.x{background:url(./logo.svg?inline)}', /query or escape/],
    ['.x{background:url(./a\\)/../../../etc/passwd)}', /query or escape/],
    ['.x{background:url(%2e%2e/%2e%2e/etc/passwd)}', /names \/etc\/passwd/],
    ['/* url(/etc/passwd) */', /refused/],
    ['@import "../../secret.css";', /"\.\.\/\.\.\/secret\.css" in src\/index\.css: it names \/secret\.css/],
    ['@import "tailwindcss" source("../../");', /"\.\.\/\.\.\/"/],
    ['@plugin "/tmp/x.mjs";', /refused "\/tmp\/x\.mjs"/],
  ])('the CSS check refuses %s', (code, message) => {
    expect(() => css(code)).toThrow(message);
  });

  it('the CSS check lets src/ files, data:, https: and fragments through', () => {
    const ok = [
      '@import "tailwindcss";',
      '.a{background:url(./logo.svg), url("data:image/png;base64,AA"), url(https://example.com/x.png)}',
      '.b{mask:url(#m); background:image-set("./a.png" 1x, url(./b.png) 2x)}',
      '.c{background:url(/src/logo.svg)}',
    ].join('\n');
    expect(css(ok)).toBeNull();
  });

  it('will not run misplaced or with its inline limit replaced', () => {
    expect(() => configured(['vibe:source-guard', 'vibe:css-guard', '@tailwindcss/vite:generate:build'])).toThrow(
      /must come after tailwindcss/,
    );
    expect(() => configured(['vibe:source-guard', '@tailwindcss/vite:generate:build'])).toThrow(/css plugin/);
    const guard = sourceGuard();
    const config = { root: '/app', cacheDir: '/cache', build: { assetsInlineLimit: 4096 }, plugins: [] };
    expect(() => hook(guard.files, 'configResolved').call({}, config)).toThrow(/assetsInlineLimit/);
  });
});

/** A config like the template's, with the guard's layers named in GUARD_OFF switched off. */
const LAYERED_CONFIG = `import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import tailwindcss from '@tailwindcss/vite';
import { sourceGuard } from ${JSON.stringify(join(templateDir, 'vibe-plugins', 'source-guard.ts'))};
const off = (process.env.GUARD_OFF ?? '').split(',');
const g = sourceGuard();
const files = { ...g.files, ...(off.includes('css') ? { transform: undefined } : {}) };
const css = off.includes('css') ? { name: 'vibe:css-guard' } : g.css;
export default defineConfig({ plugins: [files, react(), tailwindcss(), css] });
`;

const SECRET = 'VIBE_CANARY=host-secret-6f1c';
const CLEAN_APP = 'export default function App() { return <p className="p-1">x</p>; }\n';

describe('real builds of an unisolated app dir: the build fails naming the file, and nothing leaks', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let app: string;
  beforeAll(async () => {
    tmp = await tempDir('vibe-guard-');
    // The default layout: <repo>/data/apps/<id>, so ../../../../.env from src/ is the bot's own .env.
    writeFileSync(join(tmp.path, '.env'), `${SECRET}\n`);
    app = join(tmp.path, 'data', 'apps', 'app1');
    await prepareAppDir(templateDir, app);
    writeFileSync(join(app, 'layers.config.ts'), LAYERED_CONFIG);
  });
  afterAll(() => tmp?.remove());

  /** `vite build` of `files` in the app dir: exit code, output, and every built file's text. */
  function build(files: Record<string, string>, env: Record<string, string> = {}, config?: string) {
    rmSync(join(app, 'src'), { recursive: true, force: true });
    rmSync(join(app, 'dist'), { recursive: true, force: true });
    for (const [path, text] of Object.entries({ ...templateFiles(), 'src/App.tsx': CLEAN_APP, ...files })) {
      mkdirSync(dirname(join(app, path)), { recursive: true });
      writeFileSync(join(app, path), text);
    }
    const args = [
      'node_modules/vite/bin/vite.js',
      'build',
      '--configLoader',
      'runner',
      ...(config ? ['-c', config] : []),
    ];
    return new Promise<{ code: number; output: string; built: string }>((resolve) => {
      execFile(
        process.execPath,
        args,
        { cwd: app, env: { PATH: process.env.PATH, ...env }, timeout: 120_000 },
        (err, stdout, stderr) => {
          const dist = join(app, 'dist');
          const built = existsSync(dist)
            ? readdirSync(dist, { recursive: true, withFileTypes: true })
                .filter((e) => e.isFile())
                .map((e) => readFileSync(join(e.parentPath, e.name), 'latin1'))
                .join('\n')
            : '';
          resolve({ code: err ? Number(err.code ?? 1) : 0, output: `${stdout}\n${stderr}`, built });
        },
      );
    });
  }
  const leaked = (text: string) =>
    text.includes(SECRET) ||
    text.includes(Buffer.from(`${SECRET}\n`).toString('base64')) ||
    text.includes('defineConfig');

  const app1 = (comment: string) => ({
    'src/App.tsx': `${comment}\nexport default function App() { return <p className="p-1">x</p>; }\n`,
  });

  it.each([
    [
      'the exact input: a comment in App.tsx',
      app1('// bg-[url(../../../../.env)]'),
      /url\(\.\.\/\.\.\/\.\.\/\.\.\/\.env\).*written at src\/App\.tsx:1/,
    ],
    [
      'a query that skips the inline limit',
      app1('// bg-[url(../../../../.env?inline)]'),
      /written at src\/App\.tsx:1.*query/,
    ],
    [
      'a template file',
      app1('// [mask-image:url(../vite.config.ts)]'),
      /url\(\.\.\/vite\.config\.ts\).*written at src\/App\.tsx:1/,
    ],
    [
      '@apply in an imported CSS file',
      {
        'src/index.css': "@import 'tailwindcss';\n@import './extra.css';\n",
        'src/extra.css': '.x { @apply bg-[url(../../../../.env)]; }\n',
      },
      /\.env/,
    ],
    ['a .md file', { 'src/notes.md': 'bg-[image:url(../../../../.env)]\n' }, /written at src\/notes\.md:1/],
    ['a .json file', { 'src/data.json': '{"c":"[content:url(../../../../.env)]"}\n' }, /written at src\/data\.json:1/],
    [
      'an .svg file',
      { 'src/i.svg': '<svg class="bg-[image-set(\'../../../../.env\'_1x)]"/>\n' },
      /written at src\/i\.svg:1/,
    ],
    ['an absolute path', app1('// bg-[url(/etc/passwd)]'), /url\(\/etc\/passwd\)/],
  ])(
    '%s',
    async (_name, files, message) => {
      const r = await build(files);
      expect(r.code, r.output).not.toBe(0);
      expect(r.output).toMatch(/vibe: refused/);
      expect(r.output).toMatch(message);
      expect(leaked(r.output) || leaked(r.built)).toBe(false);
    },
    120_000,
  );

  it.each([
    [
      'assetsInlineLimit alone refuses a file Vite would inline',
      '.x { background: url(../../../../.env); }',
      /refused to read .*\/\.env as an asset/,
    ],
    [
      'generateBundle alone refuses a file Vite would emit',
      '.x { background: url(../package.json?no-inline); }',
      /refused to emit assets\/package-.*\.json: it is a copy of .*package\.json/,
    ],
    [
      'generateBundle alone refuses index.html as an asset',
      '.x { background: url(../index.html); }',
      /refused to emit assets\/index-.*\.html/,
    ],
  ])(
    'with the CSS check off, %s',
    async (_name, extra, message) => {
      const r = await build(
        { 'src/index.css': "@import 'tailwindcss';\n@import './extra.css';\n", 'src/extra.css': extra },
        { GUARD_OFF: 'css' },
        'layers.config.ts',
      );
      expect(r.code, r.output).not.toBe(0);
      expect(r.output).toMatch(message);
      expect(leaked(r.output) || leaked(r.built)).toBe(false);
    },
    120_000,
  );

  it('a clean app builds, its own src/ assets included', async () => {
    const r = await build({
      'src/index.css': "@import 'tailwindcss';\n.logo { background-image: url(./logo.svg); }\n",
      'src/logo.svg': '<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>\n',
      'src/App.tsx':
        'export default function App() { return <p className="logo bg-[url(data:image/png;base64,AAAA)]">x</p>; }\n',
    });
    expect(r.code, r.output).toBe(0);
    expect(r.built).toMatch(/data:image\/svg\+xml,.*circle/);
    expect(r.built).toContain('data:image/png;base64,AAAA');
    expect(leaked(r.built)).toBe(false);
  }, 120_000);
});
