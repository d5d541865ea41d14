import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ModalClient, type App, type Image, type Sandbox } from 'modal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_IMAGE, templateImageCommands } from '../../../src/sandbox/modal-image.ts';
import { TEMPLATE_DIR } from '../../../src/template.ts';
import { needs } from '../../support/needs.ts';
import { startFakeModal, type FakeModal } from './server.ts';

/** Host pids whose command line contains `marker`, and every process below them. */
function processTree(marker: string): number[] {
  const procs = readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .flatMap((n) => {
      try {
        const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
        const [state = '', ppid = ''] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (state === 'Z') return [];
        return [{ pid: Number(n), ppid: Number(ppid), cmdline: readFileSync(`/proc/${n}/cmdline`, 'utf8') }];
      } catch {
        return []; // gone meanwhile
      }
    });
  const found = new Set(procs.filter((p) => p.cmdline.includes(marker)).map((p) => p.pid));
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs)
      if (found.has(p.ppid) && !found.has(p.pid)) {
        found.add(p.pid);
        grew = true;
      }
  }
  return [...found];
}

// The fake's image builder runs an image's Dockerfile commands (image-builder.ts); these tests
// build through the real SDK against a fake started without an `imageDir` override.

describe.runIf(needs('bwrap'))('fake Modal image builder', () => {
  let fake: FakeModal;
  let modal: ModalClient;
  let app: App;
  let template: Image | undefined;
  const savedUrl = process.env.MODAL_SERVER_URL;
  const started: Sandbox[] = [];

  beforeAll(async () => {
    fake = await startFakeModal();
    process.env.MODAL_SERVER_URL = fake.url;
    modal = new ModalClient({ tokenId: fake.tokenId, tokenSecret: fake.tokenSecret });
    app = await modal.apps.fromName('image-builder-test', { createIfMissing: true });
  });

  afterAll(async () => {
    for (const sb of started) await sb.terminate().catch(() => {});
    modal?.close();
    const workDir = fake ? path.dirname(fake.imageBuilder!.dir) : undefined;
    await fake?.close();
    if (savedUrl === undefined) delete process.env.MODAL_SERVER_URL;
    else process.env.MODAL_SERVER_URL = savedUrl;
    if (workDir) expect(existsSync(workDir)).toBe(false); // every build folder went with it
  });

  const build = (commands: string[]): Promise<Image> =>
    modal.images.fromRegistry(BASE_IMAGE).dockerfileCommands(commands).build(app);

  it('builds the template image: npm ci offline and vite optimize, into /app; built once', async () => {
    const commands = templateImageCommands(TEMPLATE_DIR);
    const t0 = Date.now();
    template = await build(commands);
    const seconds = (Date.now() - t0) / 1000;
    const slow = fake
      .imageBuilder!.steps.filter((s) => s.imageId === template!.imageId && (s.ms ?? 0) > 500)
      .map((s) => `${s.command.slice(0, 40)}: ${((s.ms ?? 0) / 1000).toFixed(1)} s`);
    console.log(`template image built in ${seconds.toFixed(1)} s (${commands.length} steps; ${slow.join(', ')})`);

    const builder = fake.imageBuilder!;
    const appDir = builder.hostPath(template.imageId, '/app');
    expect(readFileSync(path.join(appDir, 'package.json'), 'utf8')).toBe(
      readFileSync(path.join(TEMPLATE_DIR, 'package.json'), 'utf8'),
    );
    // Installed by the build's own npm ci (a real folder in the layer, not the host's template).
    expect(lstatSync(path.join(appDir, 'node_modules')).isDirectory()).toBe(true);
    const vite = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'node_modules/vite/package.json'), 'utf8'));
    expect(vite(appDir).version).toBe(vite(TEMPLATE_DIR).version);
    const metadata = JSON.parse(readFileSync(path.join(appDir, '.vite-cache/deps/_metadata.json'), 'utf8'));
    expect(Object.keys(metadata.optimized)).toContain('react');
    expect(existsSync(path.join(appDir, '.template.b64'))).toBe(false);
    // The SDK joined the build's stream (it is not answered at once).
    expect(fake.log.of('ImageJoinStreaming').length).toBeGreaterThan(0);

    // Modal's build cache: same base, same commands, same image, nothing run again.
    const steps = builder.steps.length;
    const again = await build(commands);
    expect(again.imageId).toBe(template.imageId);
    expect(builder.steps.length).toBe(steps);
  }, 300_000);

  it('runs a sandbox of the built image from its /app, with node_modules and the Vite cache', async () => {
    expect(template).toBeDefined();
    const script = [
      "const fs = require('fs');",
      'console.log(JSON.stringify({',
      '  cwd: process.cwd(),',
      "  vite: require('/app/node_modules/vite/package.json').version,",
      "  viteCache: fs.existsSync('/app/.vite-cache/deps/_metadata.json'),",
      "  packageJson: fs.existsSync('/app/package.json'),",
      "  linked: fs.lstatSync('/app/node_modules').isSymbolicLink(),",
      '}));',
    ].join('\n');
    const sb = await modal.sandboxes.create(app, template!, { command: ['node', '-e', script], timeoutMs: 60_000 });
    started.push(sb);
    expect(await sb.wait()).toBe(0);
    const seen = JSON.parse(await sb.stdout.readText());
    expect(seen).toEqual({ cwd: '/app', vite: expect.any(String), viteCache: true, packageJson: true, linked: false });
    // The sandbox's own copy of the cache, which Vite may rewrite; node_modules is the image's,
    // mounted read-only at /app/node_modules (on the host an empty mount point).
    const root = fake.sandboxes.get(sb.sandboxId)!.rootDir;
    expect(lstatSync(path.join(root, '.vite-cache')).isDirectory()).toBe(true);
    expect(lstatSync(path.join(root, 'node_modules')).isDirectory()).toBe(true);

    // Vite, started as the bot starts it, takes the image's pre-bundled deps as they are.
    const dev = await modal.sandboxes.create(app, template!, {
      command: ['node', 'node_modules/vite/bin/vite.js', '--configLoader', 'runner'],
      env: { VIBE_HOST: '0.0.0.0', VIBE_PORT: '5173', VIBE_BASE: '/', DEBUG: 'vite:deps' },
      timeoutMs: 60_000,
    });
    started.push(dev);
    const view = () => fake.sandboxes.get(dev.sandboxId)!;
    const deadline = Date.now() + 30_000;
    while (!/Hash is consistent|Re-optimizing/.test(view().stderr() + view().stdout()) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    const out = view().stderr() + view().stdout();
    expect(out).toContain('Hash is consistent. Skipping.');
    expect(out).not.toContain('Re-optimizing');
    await dev.terminate();
  });

  it('fails the build on a failing RUN, with its output; /tmp does not outlive a step', async () => {
    await expect(build(['RUN echo about to fail; false'])).rejects.toThrow(
      /failed with the exception:\nRUN echo about to fail; false failed with exit code 1:\nabout to fail/,
    );
    await expect(build(['RUN echo kept > /tmp/x', 'RUN cat /tmp/x'])).rejects.toThrow(
      /RUN cat \/tmp\/x failed with exit code 1:\n.*\/tmp\/x: No such file/,
    );
    await expect(build(['USER nobody'])).rejects.toThrow(/does not support USER/);
    // A failed build is not cached: the same commands run again.
    const steps = fake.imageBuilder!.steps.length;
    await expect(build(['RUN echo about to fail; false'])).rejects.toThrow(/about to fail/);
    expect(fake.imageBuilder!.steps.length).toBe(steps + 1);
  });

  it('has no network in a RUN step', async () => {
    const connect =
      "require('net').connect(443, '1.1.1.1').on('connect', () => process.exit(0)).on('error', (e) => { console.log('net', e.code); process.exit(1); })";
    await expect(build([`RUN node -e "${connect}"`])).rejects.toThrow(/net (ENETUNREACH|EHOSTUNREACH|ECONNREFUSED)/);
    await expect(build(['RUN getent hosts registry.npmjs.org'])).rejects.toThrow(/exit code 2/);
  });

  it('keeps /app and HOME between steps and into derived images; shares concurrent builds', async () => {
    const base = modal.images
      .fromRegistry(BASE_IMAGE)
      .dockerfileCommands(['RUN echo one > /app/a && echo home > ~/h', 'WORKDIR /app/sub']);
    const derived = base.dockerfileCommands(['ENV X=two', 'RUN echo $X >> /app/a && cat ~/h > here && pwd >> here']);
    const steps = fake.imageBuilder!.steps.length;
    const [d1, d2] = await Promise.all([
      derived.build(app),
      modal.images
        .fromRegistry(BASE_IMAGE)
        .dockerfileCommands(['RUN echo one > /app/a && echo home > ~/h', 'WORKDIR /app/sub'])
        .dockerfileCommands(['ENV X=two', 'RUN echo $X >> /app/a && cat ~/h > here && pwd >> here'])
        .build(app),
    ]);
    expect(d2.imageId).toBe(d1.imageId);
    expect(fake.imageBuilder!.steps.length).toBe(steps + 2); // one build per layer, shared
    const builder = fake.imageBuilder!;
    expect(readFileSync(builder.hostPath(d1.imageId, '/app/a'), 'utf8')).toBe('one\ntwo\n');
    expect(readFileSync(builder.hostPath(d1.imageId, '/app/sub/here'), 'utf8')).toBe('home\n/app/sub\n');
    // The base's layer is its own: the derived image wrote to a copy.
    const baseImage = fake.images.get(d1.imageId)!.baseImageId!;
    expect(readFileSync(builder.hostPath(baseImage, '/app/a'), 'utf8')).toBe('one\n');
    // A WORKDIR on a host folder cannot be written: the build says so.
    await expect(build(['WORKDIR /usr/src/app'])).rejects.toThrow(/cannot write under the host's \/usr/);
  });

  it('kills a build in progress on close: no process of it survives, nothing left on disk', async () => {
    const other = await startFakeModal();
    process.env.MODAL_SERVER_URL = other.url;
    const client = new ModalClient({ tokenId: other.tokenId, tokenSecret: other.tokenSecret });
    process.env.MODAL_SERVER_URL = fake.url;
    try {
      const otherApp = await client.apps.fromName('image-builder-close', { createIfMissing: true });
      const marker = `close-marker-${process.pid}-${Date.now()}`;
      const pending = client.images
        .fromRegistry(BASE_IMAGE)
        .dockerfileCommands([`RUN sleep 300; echo ${marker}`])
        .build(otherApp);
      pending.catch(() => {});
      const deadline = Date.now() + 10_000;
      while (processTree(marker).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(processTree(marker).length).toBeGreaterThanOrEqual(2); // bwrap and what runs in it
      const workDir = path.dirname(other.imageBuilder!.dir);
      await other.close();
      expect(processTree(marker)).toEqual([]);
      expect(existsSync(workDir)).toBe(false);
      // The fake is gone: the SDK's stream of the build fails (UNAVAILABLE).
      await expect(pending).rejects.toThrow();
    } finally {
      client.close();
      await other.close();
    }
  });
});
