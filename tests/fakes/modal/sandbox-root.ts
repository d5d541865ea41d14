import { cpSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';

/**
 * Makes `dest` a private copy of an image directory. `node_modules` is never copied or
 * installed: `dest/node_modules` is a symlink to the image's own, which the sandbox sees
 * read-only at the same path (the template keeps Vite's cache elsewhere, in `.vite-cache`).
 */
export function prepareSandboxRoot(imageDir: string, dest: string): void {
  const sourceModules = path.join(imageDir, 'node_modules');
  mkdirSync(dest, { recursive: true });
  cpSync(imageDir, dest, {
    recursive: true,
    verbatimSymlinks: true,
    filter: (src) => src !== sourceModules && path.basename(src) !== '.vite-cache',
  });
  if (existsSync(sourceModules)) symlinkSync(sourceModules, path.join(dest, 'node_modules'));
}
