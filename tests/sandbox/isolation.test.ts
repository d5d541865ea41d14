// What a local sandbox holds, tried with the inputs that got through before: a Tailwind
// @plugin, a ?raw import of a host file, planted symlinks, and code probing the host from
// inside a booted sandbox (network, capabilities, mounts, limits).
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AppGateway } from '../../src/sandbox/gateway.ts';
import { LocalSandboxProvider } from '../../src/sandbox/local.ts';
import { eventually, recordingLogger, tempDir, templateDir, templateFiles } from './sandbox-test-kit.ts';
import { needs } from '../support/needs.ts';

/** A TCP listener on the host's loopback that records every connection made to it. */
async function canary(): Promise<{ port: number; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server = net.createServer((s) => {
    hits++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    hits: () => hits,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

const PLUGIN = (port: number) => `
import net from 'node:net';
import fs from 'node:fs';
fs.writeFileSync('/tmp/plugin-ran', 'yes');
const s = net.connect(${port}, '127.0.0.1');
s.on('error', (e) => fs.writeFileSync('/tmp/plugin-net', String(e.code)));
export default function plugin() {}
`;

describe.runIf(needs('bwrap'))('a local sandbox under bubblewrap', () => {
  let apps: Awaited<ReturnType<typeof tempDir>>;
  let provider: LocalSandboxProvider;
  let bait: Awaited<ReturnType<typeof canary>>;
  const cleanups: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    apps = await tempDir('vibe-iso-');
    bait = await canary();
    provider = new LocalSandboxProvider({
      appsDir: apps.path,
      templateDir,
      logger: recordingLogger(),
      isolation: 'bwrap',
      limits: { memoryMiB: 512, pids: 128, cpuSeconds: 600 },
    });
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  afterAll(async () => {
    await provider.stopAll();
    await bait.close();
    await apps.remove();
  });

  /** Writes files through the sandbox's agent directly, skipping the bot's source check. */
  async function writePastTheCheck(id: string, files: Record<string, string>): Promise<void> {
    const inner = provider as unknown as {
      get(id: string): { agent: { request(op: string, body: object): Promise<unknown> } };
    };
    await inner.get(id).agent.request('write', { files });
  }

  async function sh(id: string, script: string, timeoutMs = 20_000) {
    return provider.run(id, ['/bin/sh', '-c', script], timeoutMs);
  }

  it('refuses an @plugin and a ?raw import before writing them, and no plugin code runs on the host', async () => {
    const { id } = await provider.boot('plugin1');
    cleanups.push(() => provider.stop(id));
    const files = {
      ...templateFiles(),
      'src/index.css': '@import "tailwindcss";\n@plugin "./x.ts";\n',
      'src/x.ts': PLUGIN(bait.port),
      'src/App.tsx':
        "import env from '../../../.env?raw';\nexport default function App() { return <pre>{env}</pre>; }\n",
    };
    const refused = await provider.write(id, files);
    expect(refused.map((e) => [e.file, e.line])).toEqual([
      ['src/App.tsx', 1],
      ['src/index.css', 2],
      ['src/x.ts', 2], // node:net and node:fs are no packages an app may import either
      ['src/x.ts', 3],
    ]);
    expect(refused[0]!.message).toMatch(/query or hash/);
    expect(refused[1]!.message).toMatch(/@plugin/);
    // Nothing was written: the sandbox still has the placeholder.
    expect((await sh(id, 'ls /app/src')).stdout.split('\n')).not.toContain('x.ts');
    expect(bait.hits()).toBe(0);
  });

  it('contains a plugin that gets past the check: it runs inside, with no way out', async () => {
    const { id, url } = await provider.boot('plugin2');
    cleanups.push(() => provider.stop(id));
    // Defence in depth: written straight through the agent, as if the source check had a hole.
    await writePastTheCheck(id, {
      ...templateFiles(),
      'src/App.tsx': 'export default function App() { return <p className="p-1">x</p>; }\n',
      'src/index.css': '@import "tailwindcss";\n@plugin "./x.ts";\n',
      'src/x.ts': PLUGIN(bait.port),
    });
    await fetch(`${url}dev/src/index.css?direct`)
      .then((r) => r.arrayBuffer())
      .catch(() => undefined); // Tailwind loads the plugin
    await eventually(async () => (await sh(id, 'cat /tmp/plugin-net 2>/dev/null')).stdout.trim() !== '', 20_000);
    expect((await sh(id, 'cat /tmp/plugin-ran')).stdout).toBe('yes');
    expect((await sh(id, 'cat /tmp/plugin-net')).stdout).toBe('ECONNREFUSED');
    expect(bait.hits()).toBe(0);
  }, 60_000);

  it('Vite refuses a ?raw load of a file outside src/ even when it is written', async () => {
    const { id, url } = await provider.boot('raw1');
    cleanups.push(() => provider.stop(id));
    await writePastTheCheck(id, {
      ...templateFiles(),
      'src/App.tsx':
        "import cfg from '../vite.config.ts?raw';\nexport default function App() { return <pre>{cfg}</pre>; }\n",
    });
    const res = await fetch(`${url}dev/src/App.tsx`);
    const body = await res.text();
    expect(body).not.toContain('defineConfig');
    const cfg = await fetch(`${url}dev/vite.config.ts?raw`);
    expect(await cfg.text()).not.toContain('defineConfig');
  }, 60_000);

  it('gives the code inside no capabilities, no network, no host files, no umount, and limits', async () => {
    const { id, url } = await provider.boot('probe1');
    cleanups.push(() => provider.stop(id));
    // The bot's gateway, in front of this very sandbox, on the host's loopback.
    const gateway = new AppGateway({ resolve: async () => new URL(url).origin, logger: recordingLogger() });
    const gatewayPort = (await gateway.listen(0, '127.0.0.1')).port;
    cleanups.push(() => gateway.close());
    expect((await fetch(`http://127.0.0.1:${gatewayPort}/apps/probe1/`)).status).toBe(200); // it answers from the host
    const probe = `
      const net = require('net'), fs = require('fs');
      const tryConnect = (port) => new Promise((r) => { const s = net.connect(port, '127.0.0.1'); s.on('connect', () => { s.destroy(); r('connected'); }); s.on('error', (e) => r(e.code)); });
      (async () => console.log(JSON.stringify({
        cap: fs.readFileSync('/proc/self/status', 'utf8').match(/CapEff:\\s*(\\w+)/)[1],
        canary: await tryConnect(${bait.port}),
        gateway: await tryConnect(${gatewayPort}),
        ownSocket: await tryConnect(${new URL(url).port}),
        redis: await tryConnect(6379),
        postgres: await tryConnect(5432),
        runUser: fs.existsSync('/run/user'),
        run: fs.existsSync('/run'),
        etc: fs.existsSync('/etc/passwd'),
        repo: fs.existsSync(${JSON.stringify(join(templateDir, '..', 'package.json'))}),
        templateWrite: (() => { try { fs.writeFileSync('/app/evil.txt', 'x'); return 'ok'; } catch (e) { return e.code; } })(),
      })))();`;
    const r = await provider.run(id, [process.execPath, '-e', probe]);
    expect(r.code, r.stderr).toBe(0);
    const seen = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(seen).toEqual({
      cap: '0000000000000000',
      canary: 'ECONNREFUSED',
      gateway: 'ECONNREFUSED',
      ownSocket: 'ECONNREFUSED',
      redis: 'ECONNREFUSED',
      postgres: 'ECONNREFUSED',
      runUser: false,
      run: false,
      etc: false,
      repo: false,
      templateWrite: 'EROFS',
    });
    expect(bait.hits()).toBe(0);

    const umount = await sh(id, 'umount /app 2>&1; umount /proc 2>&1; echo "exit $?"');
    expect(umount.stdout).toMatch(/exit [1-9]/);
    expect(
      (await sh(id, 'grep -c . /proc/self/mounts >/dev/null && grep " /app " /proc/self/mounts')).stdout,
    ).toContain('/app');

    const limits = await sh(id, 'cat /proc/self/limits');
    expect(limits.stdout).toMatch(/Max cpu time\s+600\s/);
    expect(limits.stdout).toMatch(/Max core file size\s+0\s/);
  }, 60_000);

  it('caps the number of processes', async () => {
    const { id } = await provider.boot('pids1');
    cleanups.push(() => provider.stop(id));
    // Up to 300 sleepers against a cap of 128 tasks (the sandbox's own processes and threads
    // included). It stops at the first refused fork and frees everything at once, so the dev
    // server is short of a thread for as little time as possible.
    const bomb = `
      const { spawn } = require('child_process');
      const kids = [];
      for (let i = 0; i < 300; i++) {
        let k;
        try { k = spawn('sleep', ['30']); } catch { break; }
        k.on('error', () => undefined);
        if (!k.pid) break;
        kids.push(k);
      }
      for (const k of kids) k.kill('SIGKILL');
      console.log(JSON.stringify({ started: kids.length }));`;
    const r = await provider.run(id, [process.execPath, '-e', bomb], 30_000);
    const { started } = JSON.parse(r.stdout || '{}') as { started?: number };
    expect(started, r.stdout + r.stderr).toBeGreaterThan(0);
    expect(started, r.stdout + r.stderr).toBeLessThan(128);
  }, 60_000);

  it('caps memory: a process that allocates past the limit is killed', async () => {
    const { id } = await provider.boot('mem1');
    cleanups.push(() => provider.stop(id));
    // 1 GiB of touched buffers (outside V8's heap) against a limit of 512 MiB. The kernel picks
    // which process of the sandbox's cgroup it kills: the allocating one (the run reports a
    // signal or an exit code), or a bigger one such as the agent (the whole sandbox ends).
    const r = await provider
      .run(
        id,
        [
          process.execPath,
          '-e',
          'const a = []; for (let i = 0; i < 64; i++) a.push(Buffer.alloc(16 << 20, 1)); console.log("allocated")',
        ],
        30_000,
      )
      .catch((err: Error) => {
        if (err.message !== 'the sandbox exited') throw err;
        return { stdout: '', signal: err.message, code: null };
      });
    expect(r.stdout).not.toContain('allocated');
    expect(r.signal ?? r.code).toBeTruthy();
  }, 60_000);

  it('writes nothing of the app to the host disk', async () => {
    const { id } = await provider.boot('disk1');
    cleanups.push(() => provider.stop(id));
    expect(
      await provider.write(id, {
        ...templateFiles(),
        'src/App.tsx': 'export default function App() { return <p>on tmpfs</p>; }\n',
      }),
    ).toEqual([]);
    expect(existsSync(apps.path) ? readdirSync(apps.path) : []).toEqual([]);
  });

  it('replaces a symlink planted inside src/ instead of writing through it', async () => {
    const { id } = await provider.boot('link1');
    cleanups.push(() => provider.stop(id));
    await sh(
      id,
      'mkdir -p /home/victim && echo keep > /home/victim/file && ln -s /home/victim /app/src/components && ln -s /home/victim/file /app/src/App.tsx.tmp',
    );
    expect(
      await provider.write(id, {
        ...templateFiles(),
        'src/App.tsx': "import { X } from './components/X';\nexport default function App() { return <X />; }\n",
        'src/components/X.tsx': 'export function X() { return <p>x</p>; }\n',
      }),
    ).toEqual([]);
    expect((await sh(id, 'ls /home/victim; cat /home/victim/file')).stdout).toBe('file\nkeep\n');
    expect((await sh(id, '[ -L /app/src/components ] && echo link || echo dir')).stdout).toBe('dir\n');
  });
});

describe('an unisolated app folder (VIBE_ISOLATION=none)', () => {
  it('never follows a symlink planted in it: its target is left untouched', async () => {
    const apps = await tempDir('vibe-links-');
    const victim = await tempDir('vibe-victim-');
    const provider = new LocalSandboxProvider({
      appsDir: apps.path,
      templateDir,
      logger: recordingLogger(),
      isolation: 'none',
    });
    try {
      writeFileSync(join(victim.path, 'precious.txt'), 'keep me');
      writeFileSync(join(victim.path, 'config.ts'), 'keep me too');
      const appDir = join(apps.path, 'links1');
      mkdirSync(appDir, { recursive: true });
      symlinkSync(victim.path, join(appDir, 'src'));
      symlinkSync(join(victim.path, 'config.ts'), join(appDir, 'vite.config.ts'));
      symlinkSync(victim.path, join(appDir, '.home'));
      const { id } = await provider.boot('links1', {
        ...templateFiles(),
        'src/App.tsx': 'export default function App() { return <p>safe</p>; }\n',
      });
      expect(
        await provider.write(id, {
          ...templateFiles(),
          'src/App.tsx': 'export default function App() { return <p>again</p>; }\n',
        }),
      ).toEqual([]);
      expect(readdirSync(victim.path).sort()).toEqual(['config.ts', 'precious.txt']);
      expect(readFileSync(join(victim.path, 'precious.txt'), 'utf8')).toBe('keep me');
      expect(readFileSync(join(victim.path, 'config.ts'), 'utf8')).toBe('keep me too');
    } finally {
      await provider.stopAll();
      await apps.remove();
      await victim.remove();
    }
  }, 60_000);
});
