// The light view's build child can miss a write (a file watcher may lose an event that comes
// while it re-arms after a build: CI once waited a minute for a build that never came). The bot
// waiting for the build of the source on disk then gets a new child, which builds it at once.
// The child here is a stand-in that builds once at start and, but for TOUCHED_FILE, never
// watches: only the watcher's recheck after a build, or its nudge, can bring the next build.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { BuildWatcher, TOUCHED_FILE } from '../../sandbox-template/vibe-plugins/build-watcher.ts';
import { LightSite } from '../../sandbox-template/vibe-plugins/light-site.ts';
import { sourceHash } from '../../sandbox-template/vibe-plugins/source-hash.ts';

const hashModule = pathToFileURL(join(import.meta.dirname, '../../sandbox-template/vibe-plugins/source-hash.ts')).href;
// The ESM entry of tsx's register API (require.resolve gives its CommonJS one).
const tsxApi = pathToFileURL(
  createRequire(import.meta.url)
    .resolve('tsx/esm/api')
    .replace(/\.cjs$/, '.mjs'),
).href;

/**
 * A stand-in for `vite build --watch`: builds what is on disk at start, then idles until its
 * parent goes. With `lateWrite`, a file lands in src/ during that build (after the build read
 * the source); with `watchTouchedFile`, a change to TOUCHED_FILE (its timestamp too) starts
 * another build (the real child's watcher watches the modules its build read).
 */
const buildChild = (opts: { lateWrite?: boolean; watchTouchedFile?: boolean } = {}) => `
import { register } from ${JSON.stringify(tsxApi)};
import { watch, writeFileSync } from 'node:fs';
register();
const { readSourceHash } = await import(${JSON.stringify(hashModule)});
let late = ${Boolean(opts.lateWrite)};
const build = () => {
  const source = readSourceHash(process.cwd());
  process.send({ type: 'vibe:build-start', source });
  if (late) (late = false), writeFileSync('src/Late.tsx', 'export const late = 1;\\n');
  const html = Buffer.from('<!doctype html><p>' + source + '</p>').toString('base64');
  process.send({ type: 'vibe:build-done', source, files: [{ path: 'index.html', base64: html }] });
};
build();
if (${Boolean(opts.watchTouchedFile)}) watch(${JSON.stringify(TOUCHED_FILE)}, () => build());
process.once('disconnect', () => process.exit(0));
setInterval(() => {}, 60_000);
`;

describe('the light build watcher', () => {
  const cleanups: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** A watcher over an app of `app.tsx`, its site answering the bot's requests on loopback. */
  async function watchApp(app: string, child = buildChild(), more: Record<string, string> = {}) {
    const root = await mkdtemp(join(tmpdir(), 'vibe-build-watcher-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    await mkdir(join(root, 'src'));
    await writeFile(join(root, 'src/App.tsx'), app);
    for (const [path, text] of Object.entries(more)) await writeFile(join(root, path), text);
    const script = join(root, 'build-child.mjs');
    await writeFile(script, child);
    const site = new LightSite('/');
    const warnings: string[] = [];
    const logger = { info: () => {}, error: () => {}, warn: (m: string) => void warnings.push(m) };
    const watcher = new BuildWatcher({ root, site, script, logger });
    site.onStall = (source) => watcher.nudge(source);
    watcher.start();
    cleanups.push(() => watcher.stop());
    const server = http.createServer((req, res) => void site.serve(req, res, '__vibe/build'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const port = (server.address() as AddressInfo).port;
    const ask = async (source: string) =>
      (await fetch(`http://127.0.0.1:${port}/__vibe/build?source=${source}`)).status;
    return { root, watcher, warnings, ask };
  }

  it(
    'starts its build child again when the bot waits for a source on disk that it never built',
    { timeout: 30_000 },
    async () => {
      const app = { 'src/App.tsx': 'export default function App() { return null; }\n' };
      const { root, warnings, ask } = await watchApp(app['src/App.tsx']);
      expect(await ask(sourceHash(app))).toBe(200);
      expect(warnings).toEqual([]);

      const repaired = { ...app, 'src/Face.tsx': 'export const face = 1;\n' };
      await writeFile(join(root, 'src/Face.tsx'), repaired['src/Face.tsx']);
      const started = Date.now();
      expect(await ask(sourceHash(repaired))).toBe(200);
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(warnings).toEqual([expect.stringContaining('missed a write')]);
    },
  );

  it('leaves a source that is not on disk to the child (a write still under way)', { timeout: 30_000 }, async () => {
    const { watcher, warnings, ask } = await watchApp('export default 1;\n');
    expect(await ask(sourceHash({ 'src/App.tsx': 'export default 1;\n' }))).toBe(200);
    await new Promise((r) => setTimeout(r, 2_000));
    watcher.nudge(sourceHash({ 'src/App.tsx': 'export default 2;\n' }));
    expect(warnings).toEqual([]);
    // Only a child quiet for 1.5 s with those very files on disk is replaced.
    watcher.nudge(sourceHash({ 'src/App.tsx': 'export default 1;\n' }));
    expect(warnings).toEqual([expect.stringContaining('missed a write')]);
  });

  it('builds again at once when src/ changed during a build its watcher did not see', { timeout: 30_000 }, async () => {
    const app = { 'src/App.tsx': 'export default 1;\n', [TOUCHED_FILE]: 'p { margin: 0 }\n' };
    const { warnings, ask } = await watchApp(
      app['src/App.tsx'],
      buildChild({ lateWrite: true, watchTouchedFile: true }),
      {
        [TOUCHED_FILE]: app[TOUCHED_FILE],
      },
    );
    // The child's first build started from `app` and reported it; Late.tsx came during it.
    expect(await ask(sourceHash({ ...app, 'src/Late.tsx': 'export const late = 1;\n' }))).toBe(200);
    expect(warnings).toEqual([]); // no restart: touching TOUCHED_FILE made the child look again
  });
});
