import { cpSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';

/** Image directories built by image-builder.ts (see `markBuiltImage`). */
const builtImages = new Set<string>();

/**
 * Marks `imageDir` as an image the fake built (image-builder.ts), or no longer (`built` false).
 * Its sandboxes then see it as on Modal: its `node_modules` mounted at `<workdir>/node_modules`
 * (read-only, see bwrap-args.ts) rather than linked, and its `.vite-cache` copied (it is small).
 * Both matter to Vite: `vite optimize` made that cache at the build's /app, and the cache is
 * valid only when Vite's own files are at the same paths (the config hash has them), not behind
 * a symlink it resolves. Any other folder (the host's sandbox-template, passed as `imageDir`) is
 * linked, and its `.vite-cache` skipped: that one comes from a developer's own runs, at another
 * root, stale or being written to.
 */
export function markBuiltImage(imageDir: string, built: boolean): void {
  if (built) builtImages.add(imageDir);
  else builtImages.delete(imageDir);
}

export function isBuiltImage(imageDir: string): boolean {
  return builtImages.has(imageDir);
}

/**
 * Makes `dest` a private copy of an image directory. `node_modules` is never copied or
 * installed: `dest/node_modules` is a symlink to the image's own, which the sandbox sees
 * read-only at the same path (the template keeps Vite's cache elsewhere, in `.vite-cache`); for
 * a built image, an empty folder that bwrap mounts the image's own on.
 */
export function prepareSandboxRoot(imageDir: string, dest: string): void {
  const sourceModules = path.join(imageDir, 'node_modules');
  const built = isBuiltImage(imageDir);
  const viteCache = built ? path.join(imageDir, '.vite-cache') : undefined;
  mkdirSync(dest, { recursive: true });
  cpSync(imageDir, dest, {
    recursive: true,
    verbatimSymlinks: true,
    preserveTimestamps: true, // as an image's files keep the build's times on Modal
    filter: (src) => src !== sourceModules && (path.basename(src) !== '.vite-cache' || src === viteCache),
  });
  if (!existsSync(sourceModules)) return;
  if (built) mkdirSync(path.join(dest, 'node_modules'));
  else symlinkSync(sourceModules, path.join(dest, 'node_modules'));
}
