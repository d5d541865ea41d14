import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FileMap } from '../../core/ports/index.ts';

/** One handwritten app the offline sample model can answer with. */
export interface SampleApp {
  id: string;
  /**
   * Lower-case words or stems (see `keywordMatches`): short ones (<= 4 letters) match whole words
   * plus a plural ("game", "games"); longer ones match any word they start ("calculat" -> "calculator").
   */
  keywords: string[];
  /** Also appears in the app's `<h1>`. */
  title: string;
  summary: string;
  /** Paths under `src/`; `src/main.tsx` and `src/index.css` come from the sandbox template. */
  files: FileMap;
}

/**
 * Reads a sample's files from `<dir>/src/**` as `src/...` paths.
 * The apps are kept as real .tsx files (not template strings) so they stay readable and can be
 * type-checked against the sandbox template; they are read once, when their module loads.
 */
export function loadSampleFiles(dir: URL): FileMap {
  const root = fileURLToPath(dir);
  const src = join(root, 'src');
  const files: FileMap = {};
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else files[relative(root, full).split(sep).join('/')] = readFileSync(full, 'utf8');
    }
  };
  walk(src);
  if (!files['src/App.tsx']) throw new Error(`sample at ${root} has no src/App.tsx`);
  return files;
}
