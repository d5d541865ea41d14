import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalSandboxProvider } from '../../src/sandbox/local.ts';
import { isAlive } from '../../src/sandbox/process-tree.ts';
import {
  eventually,
  processesUnder,
  recordingLogger,
  tempDir,
  templateDir,
  templateFiles,
} from './sandbox-test-kit.ts';
import { needs } from '../support/needs.ts';

// Without bwrap on a laptop the provider runs unisolated; under CI bwrap is required.
const isolation = needs('bwrap') ? 'bwrap' : 'none';
const SECRETS = {
  ANTHROPIC_API_KEY: 'sk-ant-test-secret',
  SLACK_BOT_TOKEN: 'xoxb-test-secret',
  DISCORD_TOKEN: 'discord-test-secret',
  MODAL_TOKEN_ID: 'ak-test-secret',
};

function app(body: string, extra: Record<string, string> = {}): Record<string, string> {
  return { ...templateFiles(), 'src/App.tsx': body, ...extra };
}

describe('LocalSandboxProvider', () => {
  /** Evaluates a JS expression inside the sandbox (with `fs` and the app `root`), through the provider's own agent. */
  async function inside(id: string, expression: string): Promise<unknown> {
    const r = await provider.run(id, [
      process.execPath,
      '-e',
      `const fs = require('fs'); const root = process.env.VIBE_APP_ROOT; console.log(JSON.stringify(${expression}))`,
    ]);
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout) as unknown;
  }

  let apps: Awaited<ReturnType<typeof tempDir>>;
  let provider: LocalSandboxProvider;
  let logger: ReturnType<typeof recordingLogger>;
  const savedEnv: Record<string, string | undefined> = {};

  beforeAll(async () => {
    apps = await tempDir('vibe-apps-');
    for (const [k, v] of Object.entries(SECRETS)) {
      savedEnv[k] = process.env[k];
      process.env[k] = v;
    }
  });
  beforeEach(() => {
    logger = recordingLogger();
    provider = new LocalSandboxProvider({ appsDir: apps.path, templateDir, logger, isolation });
  });
  afterEach(async () => {
    await provider.stopAll();
  });
  afterAll(async () => {
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await apps.remove();
  });

  it('boots the placeholder, then serves written files and removes stale ones', async () => {
    const started = Date.now();
    const { id, url } = await provider.boot('boot1');
    const bootMs = Date.now() - started;
    console.info(`boot (first, ${isolation}): ${bootMs} ms`);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/apps\/boot1\/$/);
    expect(await provider.status(id)).toBe('running');

    // The base is the light (production) view; the creator's dev server lives under dev/.
    const html = await (await fetch(`${url}dev/`)).text();
    expect(html).toContain('/apps/boot1/dev/src/main.tsx');
    const placeholder = await (await fetch(`${url}dev/src/App.tsx`)).text();
    expect(placeholder).toContain('Starting your app');

    // The app as the sandbox sees it: the template read-only, node_modules included.
    expect(
      await inside(
        id,
        "fs.readFileSync(root + '/index.html', 'utf8').includes('/src/main.tsx') && fs.statSync(root + '/node_modules').isDirectory()",
      ),
    ).toBe(true);

    await provider.write(
      id,
      app(
        'import { Badge } from \'./ui/Badge\';\nexport default function App() { return <Badge text="Hello vibe" />; }\n',
        {
          'src/ui/Badge.tsx':
            'export function Badge({ text }: { text: string }) { return <span className="rounded bg-sky-500 px-2">{text}</span>; }\n',
        },
      ),
    );
    await eventually(async () => (await (await fetch(`${url}dev/src/App.tsx`)).text()).includes('Hello vibe'));
    expect(await (await fetch(`${url}dev/src/ui/Badge.tsx`)).text()).toContain('bg-sky-500');
    // Tailwind scans the new file and emits its class.
    await eventually(async () => (await (await fetch(`${url}dev/src/index.css?direct`)).text()).includes('bg-sky-500'));

    const mainBefore = await inside(id, "fs.statSync(root + '/src/main.tsx').mtimeMs");
    expect(await provider.write(id, app('export default function App() { return <p>Only me</p>; }\n'))).toEqual([]);
    expect(
      await inside(
        id,
        "[fs.existsSync(root + '/src/ui/Badge.tsx'), fs.existsSync(root + '/src/ui'), fs.existsSync(root + '/src/App.tsx')]",
      ),
    ).toEqual([false, false, true]);
    // Unchanged files are not rewritten (no spurious HMR).
    expect(await inside(id, "fs.statSync(root + '/src/main.tsx').mtimeMs")).toBe(mainBefore);
    await eventually(async () => (await (await fetch(`${url}dev/src/App.tsx`)).text()).includes('Only me'));

    await expect(provider.write(id, { '../escape.ts': 'x' })).rejects.toThrow(/path not allowed/);
  }, 60_000);

  it('check finds each kind of error with file and line, and nothing in a clean app', async () => {
    const timer = { 'src/Timer.tsx': 'export function Timer() { return <p>t</p>; }\n' };
    const { id } = await provider.boot(
      'check1',
      app("import { Timer } from './Timer';\nexport default function App() { return <Timer />; }\n", timer),
    );
    const cases: { name: string; files: Record<string, string>; line: number; message: RegExp }[] = [
      {
        name: 'missing import',
        files: app('export default function App() {\n  const [n] = useState(0);\n  return <p>{n}</p>;\n}\n'),
        line: 2,
        message: /TS2304: Cannot find name 'useState'/,
      },
      {
        name: 'missing file',
        files: app("import { Clock } from './Clock';\nexport default function App() { return <Clock />; }\n"),
        line: 1,
        message: /TS2307: Cannot find module '\.\/Clock'/,
      },
      {
        name: 'bad named export',
        files: app("import { Timr } from './Timer';\nexport default function App() { return <Timr />; }\n", timer),
        line: 1,
        message: /TS2\d{3}: .*Timr/,
      },
      {
        name: 'type error',
        files: app("export default function App() {\n  const n: number = 'five';\n  return <p>{n}</p>;\n}\n"),
        line: 2,
        message: /TS2322: Type 'string' is not assignable to type 'number'/,
      },
      // Refused before it is written: a file that does not parse cannot have its imports checked.
      {
        name: 'syntax error',
        files: app('export default function App() {\n  return <div><p>hi</div>;\n}\n'),
        line: 2,
        message: /Syntax error: /,
      },
      {
        name: 'package outside libraries.json',
        files: app(
          "import { produce } from 'immer';\nexport default function App() { return <p>{String(produce)}</p>; }\n",
        ),
        line: 1,
        message:
          /Package 'immer' is not available\. The libraries you can import are: react, react-dom, lucide-react, recharts, clsx/,
      },
      {
        name: 'missing css',
        files: app("import './theme.css';\nexport default function App() { return <p />; }\n"),
        line: 1,
        message: /theme\.css/,
      },
    ];
    const timings: number[] = [];
    for (const c of cases) {
      // As the build loop does: what write refuses is the check's answer; the rest is tsc's.
      const refused = await provider.write(id, c.files);
      const t = Date.now();
      const errors = refused.length > 0 ? refused : await provider.check(id);
      timings.push(Date.now() - t);
      expect(errors.length, `${c.name}: ${JSON.stringify(errors)}`).toBeGreaterThan(0);
      expect(errors[0], c.name).toMatchObject({ file: 'src/App.tsx', line: c.line });
      expect(errors[0]!.column, c.name).toBeGreaterThan(0);
      expect(errors[0]!.message, c.name).toMatch(c.message);
    }
    await provider.write(
      id,
      app(
        "import { useState } from 'react';\nimport { Timer as Icon } from 'lucide-react';\nimport { LineChart, Line } from 'recharts';\nimport clsx from 'clsx';\nimport { Timer } from './Timer';\nexport default function App() {\n  const [n] = useState(0);\n  return <div className={clsx('p-2', n > 0 && 'hidden')}><Icon /><Timer /><LineChart width={100} height={50} data={[{ v: 1 }]}><Line dataKey=\"v\" /></LineChart></div>;\n}\n",
        timer,
      ),
    );
    const t = Date.now();
    expect(await provider.check(id)).toEqual([]);
    timings.push(Date.now() - t);
    console.info(`check: ${timings.join(', ')} ms (${timings.length} runs)`);
  }, 60_000);

  it('gives the sandbox processes no secret from the bot environment', async () => {
    const { id } = await provider.boot('env1');
    const procs = processesUnder(provider.pidOf(id));
    const vite = procs.filter((p) => p.cmdline.includes('vite/bin/vite.js') && !p.cmdline.startsWith('bwrap'));
    expect(vite.length, JSON.stringify(procs.map((p) => p.cmdline))).toBeGreaterThan(0);
    if (isolation === 'bwrap') expect(procs.some((p) => p.cmdline.startsWith('bwrap '))).toBe(true);
    for (const p of procs) {
      expect(
        Object.keys(p.environ).filter((k) => /^(ANTHROPIC|SLACK|DISCORD|MODAL)_/.test(k)),
        p.cmdline,
      ).toEqual([]);
      for (const secret of Object.values(SECRETS)) expect(Object.values(p.environ)).not.toContain(secret);
    }
    for (const p of vite) {
      expect(p.environ.HOME).toBe(isolation === 'bwrap' ? '/home' : join(apps.path, 'env1', '.home'));
      expect(p.environ.VIBE_BASE).toBe('/apps/env1/');
      expect(Object.keys(p.environ).sort()).toEqual(expect.arrayContaining(['PATH', 'VIBE_PORT']));
    }
    await provider.stop(id);
  }, 60_000);

  it('stop kills the whole process tree, is idempotent, and the app boots again', async () => {
    const first = await provider.boot('stop1');
    const pids = processesUnder(provider.pidOf(first.id)).map((p) => p.pid);
    expect(pids.length).toBeGreaterThan(0);
    await provider.stop(first.id);
    expect(pids.filter(isAlive)).toEqual([]);
    await expect(fetch(first.url)).rejects.toThrow();
    expect(await provider.status(first.id)).toBe('stopped');
    await provider.stop(first.id);

    const t = Date.now();
    const second = await provider.boot('stop1', app('export default function App() { return <p>Back again</p>; }\n'));
    console.info(`boot (again, same app dir): ${Date.now() - t} ms`);
    expect(second.id).not.toBe(first.id);
    expect(await (await fetch(`${second.url}dev/src/App.tsx`)).text()).toContain('Back again');

    // Booting the same app again replaces the running server rather than sharing its dir.
    const third = await provider.boot('stop1');
    expect(await provider.status(second.id)).toBe('stopped');
    expect(await provider.status(third.id)).toBe('running');
  }, 60_000);

  it('reports a dev server that exits on its own as stopped, and logs it', async () => {
    const { id } = await provider.boot('crash1');
    // The dev server, not its `vite build --watch` child (the light view's builder).
    const vite = processesUnder(provider.pidOf(id)).find(
      (p) => p.cmdline.includes('vite/bin/vite.js') && !p.cmdline.includes(' build ') && !p.cmdline.startsWith('bwrap'),
    );
    expect(vite).toBeDefined();
    process.kill(vite!.pid, 'SIGKILL');
    await eventually(async () => (await provider.status(id)) === 'stopped');
    await eventually(async () =>
      logger.entries.some((e) => e.level === 'warn' && /exited on its own/.test(e.msg ?? '')),
    );
    await provider.stop(id);
  }, 60_000);
});
