import { readLibraries } from '../template.ts';
import type { CheckError, FileMap } from '../core/ports.ts';
import type { SourceVetter } from './source-guard.ts';

/** The package names an app may import (sandbox-template/libraries.json). */
export function libraryNames(templateDir: string): string[] {
  return readLibraries(templateDir).map((l) => l.name);
}

/**
 * Everything a check reports, wherever tsc ran: our own import and entry-point checks on the
 * files, plus tsc's errors, one report per problem, in file and line order.
 */
export async function combineCheck(
  files: FileMap,
  tscErrors: CheckError[],
  vetter: SourceVetter,
): Promise<CheckError[]> {
  const importErrors = await vetter.vet(files);
  if (!('src/main.tsx' in files))
    importErrors.push({
      file: 'src/main.tsx',
      line: 0,
      column: 0,
      message: 'src/main.tsx is missing: index.html loads it to mount <App />',
    });
  // An unknown package is reported once, by the import check, which names the alternatives.
  const rest = tscErrors.filter(
    (e) => !(e.message.startsWith('TS2307') && importErrors.some((i) => i.file === e.file && i.line === e.line)),
  );
  return [...importErrors, ...rest].sort(
    (a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column,
  );
}
