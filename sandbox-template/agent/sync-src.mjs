// Makes `<root>/src` exactly a file map, inside the sandbox. Whatever the app's code (or an
// earlier sandbox) left in src/ is never followed: every directory on the way is checked with
// lstat, a symlink or any other non-file in the way is removed (never written through), and
// each file is written to a temp name and renamed into place, so Vite never reads half a file.
// Unchanged files are not touched, so HMR fires only for real edits.
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

async function kind(path) {
  try {
    const s = await lstat(path);
    return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'other';
  } catch (err) {
    if (err.code === 'ENOENT') return 'none';
    throw err;
  }
}

/** A real directory at `path` (a symlink or file there is removed first). */
async function realDir(path) {
  const k = await kind(path);
  if (k === 'dir') return;
  if (k !== 'none') await rm(path, { force: true });
  await mkdir(path);
}

/** Every regular file under `dir` (relative, forward slashes); anything else found is removed. */
async function listFiles(dir, prefix) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    const rel = `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await listFiles(full, rel)));
    else if (entry.isFile()) out.push(rel);
    else await rm(full, { force: true }); // symlinks, sockets, fifos: never part of an app
  }
  return out;
}

async function removeEmptyDirs(dir, keep) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await removeEmptyDirs(join(dir, entry.name), false);
  }
  if (!keep && (await readdir(dir)).length === 0) await rm(dir, { recursive: true, force: true });
}

export async function syncSrc(root, files) {
  if (!files || typeof files !== 'object') throw new Error('files must be an object');
  const paths = Object.keys(files);
  for (const p of paths) {
    const parts = p.split('/');
    if (
      parts[0] !== 'src' ||
      parts.length < 2 ||
      parts.some((s) => s === '' || s === '.' || s === '..' || s.startsWith('.'))
    )
      throw new Error(`path not allowed: ${JSON.stringify(p)}`);
    if (typeof files[p] !== 'string') throw new Error(`file ${p} is not text`);
  }
  await realDir(join(root, 'src'));
  const written = [];
  for (const path of paths) {
    const parts = path.split('/');
    let dir = root;
    for (const part of parts.slice(0, -1)) {
      dir = join(dir, part);
      await realDir(dir);
    }
    const full = join(root, path);
    const k = await kind(full);
    if (k === 'file' && (await readFile(full, 'utf8')) === files[path]) continue;
    if (k === 'dir' || k === 'other') await rm(full, { recursive: true, force: true });
    const temp = join(dir, `.${randomBytes(6).toString('hex')}.tmp`);
    await writeFile(temp, files[path], { encoding: 'utf8', flag: 'wx' });
    await rename(temp, full);
    written.push(path);
  }
  const removed = [];
  for (const path of await listFiles(join(root, 'src'), 'src')) {
    if (path in files) continue;
    await rm(join(root, path), { force: true });
    removed.push(path);
  }
  await removeEmptyDirs(join(root, 'src'), true);
  return { written, removed };
}
