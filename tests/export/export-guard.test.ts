// The exported project's own `npm run build` (vite build with the zip's vite.config.ts and
// vite-guard.ts), offline: the project is unpacked as the person would, with the template's
// node_modules linked in place of `npm install`. An app whose src/ names a file outside the
// project in a Tailwind class must fail to build, naming the file, with nothing of it in dist/.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRecord, VersionRecord } from '../../src/core/ports/index.ts';
import { AppZipPacker } from '../../src/export/app-zip.ts';
import { TEMPLATE_DIR } from '../../src/template.ts';
import { tempDir, templateFiles } from '../sandbox/sandbox-test-kit.ts';

const SECRET = 'PERSONAL_TOKEN=person-secret-41d7';

const appWith = (line: string) => ({
  'src/App.tsx': `${line}\nexport default function App() { return <p className="p-1">x</p>; }\n`,
});

const app: AppRecord = {
  id: 'a1b2c3',
  channelId: 'slack:T1:C1',
  threadId: 'slack:T1:C1:1.1',
  ownerId: 'slack:T1:U1',
  title: 'Leaky',
  summary: 'a test app',
  prompt: 'a page',
  createdAt: 0,
  updatedAt: 0,
  latestVersion: 1,
};

describe('an exported project builds with the same guard as the sandboxes', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let n = 0;
  beforeAll(async () => {
    tmp = await tempDir('vibe-export-guard-');
    // A file of the person's, beside the folder they unpacked the zip into.
    writeFileSync(join(tmp.path, 'secret.env'), `${SECRET}\n`);
  });
  afterAll(() => tmp?.remove());

  /** Packs `files` as `/vibe export` does, unpacks it under tmp/out<n>/ and runs `vite build` there. */
  async function exportAndBuild(files: Record<string, string>) {
    const version: VersionRecord = {
      appId: app.id,
      number: 1,
      files: { ...templateFiles(), ...appWith(''), ...files },
      instruction: 'a page',
      authorId: app.ownerId,
      createdAt: 0,
      usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
      model: 'test',
    };
    const zip = new AppZipPacker(TEMPLATE_DIR).pack(app, version, undefined);
    const out = join(tmp.path, `out${++n}`);
    for (const [path, bytes] of Object.entries(unzipSync(zip.bytes))) {
      mkdirSync(dirname(join(out, path)), { recursive: true });
      writeFileSync(join(out, path), bytes);
    }
    const project = join(out, zip.name.replace(/\.zip$/, ''));
    // Offline stand-in for `npm install`: the template's node_modules hold the same exact versions.
    symlinkSync(join(TEMPLATE_DIR, 'node_modules'), join(project, 'node_modules'), 'dir');
    const result = await new Promise<{ code: number; output: string }>((resolve) =>
      execFile(
        process.execPath,
        ['node_modules/vite/bin/vite.js', 'build'],
        { cwd: project, env: { PATH: process.env.PATH }, timeout: 120_000 },
        (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, output: `${stdout}\n${stderr}` }),
      ),
    );
    const dist = join(project, 'dist');
    const built = existsSync(dist)
      ? readdirSync(dist, { recursive: true, withFileTypes: true })
          .filter((e) => e.isFile())
          .map((e) => readFileSync(join(e.parentPath, e.name), 'latin1'))
          .join('\n')
      : '';
    return { ...result, built, project };
  }
  const leaked = (text: string) =>
    text.includes(SECRET) || text.includes(Buffer.from(`${SECRET}\n`).toString('base64'));

  it('ships the template guard as it is', async () => {
    const zip = unzipSync(new AppZipPacker(TEMPLATE_DIR).pack(app, { files: {}, number: 1 } as never, undefined).bytes);
    const guard = Object.entries(zip).find(([p]) => p.endsWith('/vite-guard.ts'))![1];
    expect(Buffer.from(guard).toString()).toBe(
      readFileSync(join(TEMPLATE_DIR, 'vibe-plugins', 'source-guard.ts'), 'utf8'),
    );
  });

  it.each([
    [
      'a comment in App.tsx',
      appWith('// bg-[url(../../../secret.env)]'),
      /url\(\.\.\/\.\.\/\.\.\/secret\.env\).*written at src\/App\.tsx:1/,
    ],
    [
      'the inline query',
      appWith('// [mask-image:url(../../../secret.env?inline)]'),
      /written at src\/App\.tsx:1.*query/,
    ],
    [
      '@apply in a CSS file',
      {
        'src/index.css': "@import 'tailwindcss';\n@import './extra.css';\n",
        'src/extra.css': '.x { @apply bg-[image:url(../../../secret.env)]; }\n',
      },
      /secret\.env/,
    ],
    ['a .md file', { 'src/notes.md': '[content:url(../../../secret.env)]\n' }, /written at src\/notes\.md:1/],
    ['an absolute path', appWith('// bg-[url(/etc/passwd)]'), /url\(\/etc\/passwd\)/],
    ['the project’s own config', appWith('// bg-[url(../vite.config.ts)]'), /vite\.config\.ts/],
  ])(
    '%s: the build fails naming the file, and nothing of it is in dist/',
    async (_name, files, message) => {
      const r = await exportAndBuild(files);
      expect(r.code, r.output).not.toBe(0);
      expect(r.output).toMatch(/vibe: refused/);
      expect(r.output).toMatch(message);
      expect(leaked(r.output) || leaked(r.built)).toBe(false);
      expect(r.built).not.toContain('defineConfig');
    },
    120_000,
  );

  it('a clean app still builds', async () => {
    const r = await exportAndBuild({
      'src/App.tsx':
        'export default function App() { return <p className="p-2 bg-[url(https://example.com/a.png)]">x</p>; }\n',
    });
    expect(r.code, r.output).toBe(0);
    expect(readFileSync(join(r.project, 'dist', 'index.html'), 'utf8')).toMatch(/\.\/assets\/index-[\w-]+\.js/);
    expect(r.built).toContain('https://example.com/a.png');
  }, 120_000);
});
