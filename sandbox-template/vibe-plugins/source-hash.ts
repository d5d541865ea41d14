import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What a build was made from: a hash of every file under `src/` (path and text). The bot
 * computes the same over the version it wrote (src/core/source-hash.ts; a test checks the two
 * agree), so it can ask for the build of exactly that version.
 */
export function sourceHash(files: Record<string, string>): string {
  const h = createHash('sha256');
  for (const path of Object.keys(files).sort()) h.update(`${path}\0${files[path]}\0`);
  return h.digest('hex');
}

/** The source hash of `<root>/src` as it is on disk now. */
export function readSourceHash(root: string): string {
  const files: Record<string, string> = {};
  const walk = (dir: string, rel: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name), `${rel}/${e.name}`);
      else if (e.isFile() && !e.name.startsWith('.'))
        files[`${rel}/${e.name}`] = readFileSync(join(dir, e.name), 'utf8');
    }
  };
  walk(join(root, 'src'), 'src');
  return sourceHash(files);
}
