import { constants, readFileSync } from 'node:fs';
import { copyFile, lstat, mkdir, readdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileMap } from '../core/ports/index.ts';

/** Template entries an app dir does not copy: its own source, the shared modules, the lock (folders are never copied). */
const NOT_COPIED = new Set(['node_modules', 'src', 'package-lock.json']);

/**
 * For unisolated sandboxes only (VIBE_ISOLATION=none): makes `appDir` a runnable copy of the
 * template (its top-level files, and `node_modules` and `vibe-shared` as symlinks to the template's). Whatever
 * an earlier run left in the dir is never followed: each entry the bot writes is removed first
 * (rm unlinks a symlink, it does not follow it) and copied with COPYFILE_EXCL. `src/` and HOME
 * are made by the agent, which checks every path component itself; Vite's cache is kept.
 */
export async function prepareAppDir(templateDir: string, appDir: string): Promise<void> {
  const st = await lstat(appDir).catch(() => undefined);
  if (st && !st.isDirectory()) await rm(appDir, { force: true });
  await mkdir(appDir, { recursive: true });
  for (const entry of await readdir(templateDir, { withFileTypes: true })) {
    if (!entry.isFile() || NOT_COPIED.has(entry.name)) continue;
    const dest = join(appDir, entry.name);
    await rm(dest, { recursive: true, force: true });
    await copyFile(join(templateDir, entry.name), dest, constants.COPYFILE_EXCL);
  }
  // The shared modules, and `@vibe/shared` (the template's tsconfig maps it to ./vibe-shared).
  for (const dir of ['node_modules', 'vibe-shared']) {
    const link = join(appDir, dir);
    await rm(link, { recursive: true, force: true });
    await symlink(join(templateDir, dir), link, 'dir');
  }
  const home = join(appDir, '.home');
  await rm(home, { recursive: true, force: true });
  await mkdir(home);
}

/** The template's own src/: the "starting" placeholder every sandbox boots with. */
export function templatePlaceholder(templateDir: string): FileMap {
  const files: FileMap = {};
  for (const name of ['App.tsx', 'main.tsx', 'index.css', 'vite-env.d.ts'])
    files[`src/${name}`] = readFileSync(join(templateDir, 'src', name), 'utf8');
  return files;
}
