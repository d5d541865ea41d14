import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FileMap } from '../../src/core/ports/index.ts';

export const TEMPLATE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../sandbox-template');
export const TEMPLATE_TSC = join(TEMPLATE_DIR, 'node_modules/.bin/tsc');

/** The template is installed by its own step; without CI a laptop may lack it and skip. */
export const templateReady = existsSync(TEMPLATE_TSC) && existsSync(join(TEMPLATE_DIR, 'tsconfig.json'));

/**
 * A throwaway copy of the sandbox template (node_modules symlinked, never copied) with `files`
 * written over its src/. The caller removes it with `rmSync(dir, { recursive: true, force: true })`.
 */
export function makeSampleWorkspace(files: FileMap): string {
  const dir = mkdtempSync(join(tmpdir(), 'vibe-sample-'));
  const skip = new Set(['node_modules', '.vite-cache', 'dist']);
  cpSync(TEMPLATE_DIR, dir, { recursive: true, filter: (src) => src === TEMPLATE_DIR || !skip.has(basename(src)) });
  symlinkSync(join(TEMPLATE_DIR, 'node_modules'), join(dir, 'node_modules'), 'dir');
  writeFiles(dir, files);
  return dir;
}

function writeFiles(dir: string, files: FileMap): void {
  for (const [path, text] of Object.entries(files)) {
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
  }
}

export function removeWorkspace(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}
