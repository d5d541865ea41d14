import { createHash } from 'node:crypto';
import type { FileMap } from '../ports/index.ts';

/**
 * What a version's build is made from: a hash of its files (path and text). The sandbox template
 * computes the same over `src/` on disk (sandbox-template/vibe-plugins/source-hash.ts; a test
 * checks they agree), which is how the bot asks for the build of exactly this version.
 */
export function sourceHash(files: FileMap): string {
  const h = createHash('sha256');
  for (const path of Object.keys(files).sort()) h.update(`${path}\0${files[path]}\0`);
  return h.digest('hex');
}
