import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

// Facts about sandbox-template/, the app every sandbox runs: read here once, for the system
// prompt (src/llm) and the source check (src/sandbox) alike.

/** sandbox-template/ in this checkout. */
export const TEMPLATE_DIR = fileURLToPath(new URL('../sandbox-template', import.meta.url));

/** A package the app may import, as listed in `sandbox-template/libraries.json`. */
export interface Library {
  name: string;
  version: string;
  /** What it is for, in a few words ("icons", "charts"). */
  use: string;
}

const libraryEntry = z.object({
  name: z.string().min(1),
  version: z.string().default(''),
  use: z.string().default(''),
});
const libraryDetail = z.union([z.string(), z.object({ version: z.string().default(''), use: z.string().default('') })]);
// Accepted shapes: [{name, version, use}], {libraries: [...]}, or {"name": {version, use} | "version"}.
const librariesFile = z.union([
  z.array(libraryEntry),
  z.object({ libraries: z.array(libraryEntry) }).transform((o) => o.libraries),
  z
    .record(z.string(), libraryDetail)
    .transform((rec) =>
      Object.entries(rec).map(([name, d]) => (typeof d === 'string' ? { name, version: d, use: '' } : { name, ...d })),
    ),
]);

/** The packages an app may import: `<templateDir>/libraries.json`, validated. */
export function readLibraries(templateDir: string): Library[] {
  const path = join(templateDir, 'libraries.json');
  const parsed = librariesFile.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new Error(`${path}: expected a list of {name, version, use}: ${parsed.error.message}`);
  return parsed.data;
}
