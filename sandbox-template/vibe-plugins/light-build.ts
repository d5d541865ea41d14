import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Plugin, UserConfig } from 'vite';
import type { BuildMessage } from './build-message.ts';

/**
 * Config for the `vite build --watch` child the light view starts (it has an IPC channel to
 * its parent, the dev server); undefined in any other build. Each finished build goes to the
 * parent over IPC and is swapped in there whole, so no reader ever sees a half-written or
 * emptied folder. Rolldown's watch mode writes its output anyway: it goes to a private temp
 * dir, outside the app root, where neither Tailwind's scanner nor a watcher sees it (inside
 * the app dir, each build's output re-triggered the next build).
 */
export function lightBuildChild(): { plugin: Plugin; build: UserConfig['build'] } | undefined {
  if (!process.send) return undefined;
  const send = (m: BuildMessage) => void (process.connected && process.send!(m));
  const outDir = mkdtempSync(join(tmpdir(), 'vibe-light-'));
  process.once('exit', () => rmSync(outDir, { recursive: true, force: true }));
  // Its parent is the dev server: when that goes (even killed), so does this watcher.
  process.once('disconnect', () => process.exit(0));
  process.once('SIGTERM', () => process.exit(0));
  return {
    plugin: lightBuild(send),
    build: { outDir, emptyOutDir: true, watch: { exclude: [`${outDir}/**`, '**/node_modules/**'] } },
  };
}

export function lightBuild(send: (m: BuildMessage) => void): Plugin {
  return {
    name: 'vibe:light-build',
    apply: 'build',
    enforce: 'post',
    buildStart() {
      send({ type: 'vibe:build-start' });
    },
    generateBundle: {
      // After Vite's own hooks have emitted index.html and the CSS.
      order: 'post',
      handler(_options, bundle) {
        const files = Object.values(bundle).map((out) => ({
          path: out.fileName,
          base64: Buffer.from(out.type === 'chunk' ? out.code : out.source).toString('base64'),
        }));
        send({ type: 'vibe:build-done', files });
      },
    },
  };
}
