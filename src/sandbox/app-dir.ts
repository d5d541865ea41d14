import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, readlink, rename, rm, rmdir, copyFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { FileMap } from '../core/ports.ts';

/** Template entries an app dir does not copy: its own source, the shared modules, the lock. */
const NOT_COPIED = new Set(['node_modules', 'src', 'package-lock.json']);

/**
 * Makes `appDir` a runnable copy of the template: its top-level files (config, index.html,
 * libraries.json), and `node_modules` as a symlink to the template's, installed once for all.
 * Reuses an existing dir (keeps Vite's cache there); leaves `src/` alone.
 */
export async function prepareAppDir(templateDir: string, appDir: string): Promise<void> {
  await mkdir(join(appDir, 'src'), { recursive: true });
  await mkdir(join(appDir, '.home'), { recursive: true });
  for (const entry of await readdir(templateDir, { withFileTypes: true })) {
    if (!entry.isFile() || NOT_COPIED.has(entry.name)) continue;
    await copyFile(join(templateDir, entry.name), join(appDir, entry.name));
  }
  const link = join(appDir, 'node_modules');
  const target = join(templateDir, 'node_modules');
  const current = await readlink(link).catch(() => undefined);
  if (current === target) return;
  await rm(link, { recursive: true, force: true });
  await symlink(target, link, 'dir');
}

/** Every file under `dir`, as paths relative to `root` with forward slashes. */
export async function listFiles(root: string, dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(root, full)));
    else out.push(relative(root, full).split('\\').join('/'));
  }
  return out;
}

/** Reads the app's `src/` back as a file map. */
export async function readSrc(appDir: string): Promise<FileMap> {
  const files: FileMap = {};
  for (const path of await listFiles(appDir, join(appDir, 'src'))) files[path] = await readFile(join(appDir, path), 'utf8');
  return files;
}

/**
 * Makes `appDir/src` exactly `files`. Each write goes to a temp file renamed into place, so
 * Vite never reads half a file; unchanged files are not touched, so HMR fires only for real edits.
 * Returns the paths written and removed.
 */
export async function syncSrc(appDir: string, files: FileMap): Promise<{ written: string[]; removed: string[] }> {
  const written: string[] = [];
  const removed: string[] = [];
  for (const [path, text] of Object.entries(files)) {
    const full = join(appDir, path);
    const old = await readFile(full, 'utf8').catch(() => undefined);
    if (old === text) continue;
    await mkdir(dirname(full), { recursive: true });
    // A dot-name in the same directory: rename is atomic only within one file system.
    const temp = join(dirname(full), `.${randomBytes(6).toString('hex')}.tmp`);
    await writeFile(temp, text, 'utf8');
    await rename(temp, full);
    written.push(path);
  }
  for (const path of await listFiles(appDir, join(appDir, 'src'))) {
    if (path in files) continue;
    await rm(join(appDir, path), { force: true });
    removed.push(path);
  }
  await removeEmptyDirs(join(appDir, 'src'), true);
  return { written, removed };
}

async function removeEmptyDirs(dir: string, keep: boolean): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory()) await removeEmptyDirs(join(dir, entry.name), false);
  }
  if (!keep && (await readdir(dir).catch(() => ['?'])).length === 0) await rmdir(dir).catch(() => undefined);
}
