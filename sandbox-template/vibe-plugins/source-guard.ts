import { existsSync } from 'node:fs';
import { sep } from 'node:path';
import type { Plugin } from 'vite';

/** Queries that make Vite hand out a file's bytes or address instead of running it as a module. */
const FILE_QUERY = /[?&](raw|url|inline|worker|sharedworker)\b/;

/**
 * Defence in depth behind the bot's own source check: in dev and in build, any module id that
 * is a file outside the app's root, the template's node_modules and Vite's cache is refused,
 * and so is a `?raw`/`?url`/`?inline`/`?worker` load of anything but the app's own src/.
 * Runs before every other plugin's load hook (Vite's asset plugin serves `?raw` from there).
 */
export function sourceGuard(opts: { root: string; allow: string[] }): Plugin {
  const dirs = [opts.root, ...opts.allow].map((d) => (d.endsWith(sep) ? d : d + sep));
  const src = `${opts.root}${sep}src${sep}`;
  return {
    name: 'vibe:source-guard',
    enforce: 'pre',
    load(id) {
      if (id.startsWith('\0') || !id.startsWith('/')) return null; // virtual modules
      const [path = '', query = ''] = id.split('?', 2);
      // Ids that are no file (Vite's /@react-refresh, /@vite/client before resolution) cannot leak one.
      if (!dirs.some((d) => path.startsWith(d)) && existsSync(path))
        throw new Error(`vibe: refused to load ${path}: it is outside the app`);
      if (FILE_QUERY.test(`?${query}`) && !path.startsWith(src))
        throw new Error(`vibe: refused ${id}: only the app's own src/ files may be loaded as raw text or URLs`);
      return null;
    },
  };
}
