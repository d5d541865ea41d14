// Files outside src/ through Tailwind values, in a real local sandbox, under bubblewrap and with
// VIBE_ISOLATION=none: the files are written straight through the agent (as if the bot's source
// check had a hole), then the light view's `vite build --watch` child (publishing), the export
// build and the dev server must each refuse, naming the file, with no byte of it served.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourceHash } from '../../src/core/apps/source-hash.ts';
import { exportBuildArgv } from '../../src/sandbox/export-build.ts';
import { LocalSandboxProvider } from '../../src/sandbox/local.ts';
import { needs } from '../support/needs.ts';
import { recordingLogger, tempDir, templateDir, templateFiles } from './sandbox-test-kit.ts';

const CANARY = 'VIBE_CANARY=bot-dotenv-secret-9a3e';

const modes = [
  // The default VIBE_APPS_DIR layout (<bot>/data/apps/<id>): ../../../../.env from src/ is the bot's .env.
  { isolation: 'none' as const, run: needs('template'), secret: '../../../../.env', named: /\.env/ },
  // Inside bubblewrap the host is out of sight; what is left to leak is the sandbox's own /proc.
  { isolation: 'bwrap' as const, run: needs('bwrap'), secret: '/proc/self/environ', named: /\/proc\/self\/environ/ },
];

describe.each(modes)(
  'the build guard in a local sandbox, isolation $isolation',
  ({ isolation, run, secret, named }) => {
    let tmp: Awaited<ReturnType<typeof tempDir>>;
    let provider: LocalSandboxProvider;
    let id = '';
    let url = '';
    let turn = 0;

    beforeAll(async () => {
      if (!run) return;
      tmp = await tempDir('vibe-guard-sbx-');
      writeFileSync(join(tmp.path, '.env'), `${CANARY}\n`);
      provider = new LocalSandboxProvider({
        appsDir: join(tmp.path, 'data', 'apps'),
        templateDir,
        logger: recordingLogger(),
        isolation,
      });
    }, 120_000);
    afterAll(async () => {
      await provider?.stopAll();
      await tmp?.remove();
    });

    /** The app with `extra` files; App.tsx changes every turn, so the build watcher rebuilds. */
    function app(comment: string, extra: Record<string, string> = {}): Record<string, string> {
      return {
        ...templateFiles(),
        'src/App.tsx': `${comment}\nexport default function App() { return <p className="p-1">turn ${turn++}</p>; }\n`,
        ...extra,
      };
    }

    /**
     * A new sandbox (Tailwind's watcher keeps every class it has seen, so one refused value would
     * be refused again in every later build of the same sandbox), then `files` written through its
     * agent directly, skipping the bot's source check: all but App.tsx first, then App.tsx, a
     * module the build watcher follows, so that the rebuild sees every file.
     */
    async function bootAndWritePastTheCheck(files: Record<string, string>): Promise<void> {
      const first = app('');
      ({ id, url } = await provider.boot('guard1', first));
      const inner = provider as unknown as {
        get(id: string): { agent: { request(op: string, body: object): Promise<unknown> } };
      };
      await inner.get(id).agent.request('write', { files: { ...files, 'src/App.tsx': first['src/App.tsx'] } });
      await inner.get(id).agent.request('write', { files });
    }

    /** True when `text` holds any byte of a file it should not: the canary, env, config, passwd, a mount table. */
    const leaks = (text: string) =>
      [CANARY, Buffer.from(`${CANARY}\n`).toString('base64'), 'defineConfig', 'VIBE_BASE=', 'root:x:0:0', ' - tmpfs ']
        .concat(['data:application/octet-stream'])
        .some((s) => text.includes(s));

    /** What viewers are served now: the light view's page and every asset it names. */
    async function served(): Promise<string> {
      const html = await (await fetch(url)).text();
      const assets = [...html.matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
      const bodies = await Promise.all(assets.map(async (a) => (await fetch(new URL(a, url))).text()));
      return [html, ...bodies].join('\n');
    }

    it.runIf(run).each([
      [
        'the exact input: a comment in App.tsx',
        () => app('// bg-[url(../../../../.env)]'),
        /url\(\.\.\/\.\.\/\.\.\/\.\.\/\.env\).*written at src\/App\.tsx:1/,
      ],
      [
        'the exact input: @apply in src/extra.css',
        () =>
          app('', {
            'src/index.css': "@import 'tailwindcss';\n@import './extra.css';\n",
            'src/extra.css': '.x { @apply bg-[url(../../proc/self/cmdline)]; }\n',
          }),
        /url\(\.\.\/\.\.\/proc\/self\/cmdline\)/,
      ],
      ['[mask-image:url()] in a .md file', () => app('', { 'src/notes.md': `[mask-image:url(${secret})]\n` }), named],
      [
        '[content:url()] in a .json file',
        () => app('', { 'src/data.json': `{"c":"[content:url(${secret})]"}\n` }),
        named,
      ],
      [
        'bg-[image:url(?inline)] in an .svg file',
        () => app('', { 'src/i.svg': `<svg class="bg-[image:url(${secret}?inline)]"/>\n` }),
        /query/,
      ],
      ['image-set() of a template file', () => app('// bg-[image-set("../vite.config.ts"_1x)]'), /vite\.config\.ts/],
      ['url(/etc/passwd)', () => app('// bg-[url(/etc/passwd)]'), /url\(\/etc\/passwd\)/],
      ['mountinfo', () => app('// [mask-image:url(../../proc/self/mountinfo)]'), /mountinfo/],
    ])(
      '%s: publishing refuses, naming the file; viewers get none of it',
      async (_name, files, message) => {
        const written = files();
        await bootAndWritePastTheCheck(written);
        const failure = await provider.lightBuild(id, sourceHash(written)).then(
          () => undefined,
          (err: Error) => err.message,
        );
        expect(failure ?? 'it was built', 'the light build must fail').toMatch(
          /the light build failed: .*vibe: refused/s,
        );
        expect(failure).toMatch(message);
        expect(leaks(failure!)).toBe(false);
        expect(leaks(await served())).toBe(false);
      },
      120_000,
    );

    it.runIf(run)(
      'the dev server refuses the CSS (an inlined url() in dev), and the export build fails',
      async () => {
        const written = app(`// bg-[url(${secret}?inline)]`);
        await bootAndWritePastTheCheck(written);
        const css = await fetch(`${url}dev/src/index.css`);
        const body = await css.text();
        expect(css.status).toBe(500);
        expect(body).toMatch(/vibe: refused/);
        expect(leaks(body)).toBe(false);
        const exported = await provider.exportBuild(id).then(
          () => 'built',
          (err: Error) => err.message,
        );
        expect(exported).toMatch(/the export build failed/);
        expect(leaks(exported)).toBe(false);
        // The bot keeps only the tail of the build's output; the whole of it names the file.
        const full = await provider.run(id, exportBuildArgv(process.execPath), 120_000);
        expect(full.code).not.toBe(0);
        expect(full.stderr).toMatch(
          /vibe: refused url\(.*\?inline\) in src\/index\.css \(written at src\/App\.tsx:1\)/,
        );
        expect(leaks(full.stdout + full.stderr)).toBe(false);
      },
      120_000,
    );

    it.runIf(run)(
      'a clean app publishes, with its own src/ image inlined and nothing else',
      async () => {
        const written = app('', {
          'src/index.css': "@import 'tailwindcss';\n.logo { background-image: url(./logo.svg); }\n",
          'src/logo.svg': '<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>\n',
        });
        await bootAndWritePastTheCheck(written);
        const built = await provider.lightBuild(id, sourceHash(written));
        const text = [...built.values()].map((b) => Buffer.from(b).toString('latin1')).join('\n');
        expect(text).toMatch(/data:image\/svg\+xml,.*circle/);
        expect(leaks(text)).toBe(false);
        expect((await fetch(`${url}dev/src/index.css`)).status).toBe(200);
      },
      120_000,
    );
  },
);
