import { mkdtempSync, readdirSync, rmSync, type Dirent } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import type { Plugin, PluginOption, UserConfig } from 'vite';
import type { BuildMessage } from './build-message.ts';
import { readSourceHash } from './source-hash.ts';
import { buildVendorChunks, vendorPlugins, type VendorChunks } from './vendor-chunks.ts';

/** How long the build child waits for src/ to be quiet before it builds (see lightBuildChild). */
export const BUILD_DELAY_MS = 10;

/**
 * Config for the `vite build --watch` child the light view starts (it has an IPC channel to
 * its parent, the dev server); undefined in any other build. Each finished build goes to the
 * parent over IPC and is swapped in there whole, so no reader ever sees a half-written or
 * emptied folder. Rolldown's watch mode writes its output anyway: it goes to a private temp
 * dir, outside the app root, where neither Tailwind's scanner nor a watcher sees it (inside
 * the app dir, each build's output re-triggered the next build).
 */
export function lightBuildChild(): { plugin: PluginOption[]; build: UserConfig['build'] } | undefined {
  if (!process.send) return undefined;
  const send = (m: BuildMessage) => void (process.connected && process.send!(m));
  const outDir = mkdtempSync(join(tmpdir(), 'vibe-light-'));
  process.once('exit', () => rmSync(outDir, { recursive: true, force: true }));
  // Its parent is the dev server: when that goes (even killed), so does this watcher.
  process.once('disconnect', () => process.exit(0));
  process.once('SIGTERM', () => process.exit(0));
  // React, built once here: each build leaves it out and takes these files along.
  const vendor = buildVendorChunks(process.cwd()).catch((err: Error) => {
    console.warn(`vendor chunks not built (each build bundles React): ${err.message}`);
    return undefined;
  });
  return {
    plugin: [vendorPlugins(vendor), lightBuild(send, process.cwd(), vendor)],
    // Source maps for the bot alone (no sourceMappingURL in the files): its browser check maps a
    // stack frame in the built page back to src/ with them, and they are never published.
    build: {
      outDir,
      emptyOutDir: true,
      sourcemap: 'hidden',
      // buildDelay: one write into src/ is a burst of file events (a temp file, then its rename);
      // with none, some writes were built twice, the second build competing with the bot's
      // browser check of the first (seen in 4 of 8 builds traced; with 10 ms, in none of 16).
      watch: { exclude: [`${outDir}/**`, '**/node_modules/**'], buildDelay: BUILD_DELAY_MS },
    },
  };
}

export function lightBuild(
  send: (m: BuildMessage) => void,
  root: string,
  vendor: Promise<VendorChunks | undefined> = Promise.resolve(undefined),
): Plugin {
  // The vendor files as every build's message carries them: encoded once.
  const vendorMessage = vendor.then((v) =>
    (v?.files ?? []).map((f) => ({ path: f.path, base64: f.body.toString('base64') })),
  );
  // What this build started from: read before Vite reads a file, so a write during the build
  // gives a hash that matches neither version (and the watcher builds again).
  let source = '';
  return {
    name: 'vibe:light-build',
    apply: 'build',
    enforce: 'post',
    buildStart() {
      source = readSourceHash(root);
      send({ type: 'vibe:build-start', source });
      // The watcher sees only files the last build read; src/'s folders too, so a new file (one a
      // failed import named, or one nothing imports yet, which still changes the source hash)
      // starts the next build.
      for (const dir of folders(join(root, 'src'))) this.addWatchFile(dir);
    },
    buildEnd(error) {
      if (error) send({ type: 'vibe:build-failed', source, message: String(error.message).slice(0, 2000) });
    },
    // An error while the output is made (the source guard's check of emitted files) comes after buildEnd.
    renderError(error) {
      send({ type: 'vibe:build-failed', source, message: String(error?.message).slice(0, 2000) });
    },
    generateBundle: {
      // After Vite's own hooks have emitted index.html and the CSS.
      order: 'post',
      async handler(_options, bundle) {
        // Only the maps of chunks with the app's own code go along (the libraries' are large, and
        // a frame in them is never the app's to fix).
        const own = new Set(
          Object.values(bundle)
            .filter((out) => out.type === 'chunk' && out.moduleIds.some((id) => isAppModule(root, id)))
            .map((out) => `${out.fileName}.map`),
        );
        const files = Object.values(bundle)
          .filter((out) => !out.fileName.endsWith('.map') || own.has(out.fileName))
          .map((out) => ({
            path: out.fileName,
            base64: Buffer.from(out.type === 'chunk' ? out.code : out.source).toString('base64'),
          }));
        // The vendor files this build imports (vendor-chunks.ts), the same every build.
        files.push(...(await vendorMessage));
        send({ type: 'vibe:build-done', source, files });
      },
    },
  };
}

/** A module of the app's own `src/` (not a dependency, not a virtual module). */
function isAppModule(root: string, id: string): boolean {
  return id.startsWith(join(root, 'src') + sep) && !id.includes(`${sep}node_modules${sep}`);
}

/** `dir` and every folder under it (none when it does not exist). */
function folders(dir: string): string[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return [dir, ...entries.filter((e) => e.isDirectory()).flatMap((e) => folders(join(dir, e.name)))];
}
