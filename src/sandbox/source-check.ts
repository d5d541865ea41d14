import { readLibraries } from '../template.ts';
import type { CheckError, FileMap } from '../core/ports/index.ts';

/** The package names an app may import (sandbox-template/libraries.json). */
export function libraryNames(templateDir: string): string[] {
  return readLibraries(templateDir).map((l) => l.name);
}

/**
 * Everything a check reports, wherever tsc ran: tsc's errors plus the entry point, in file and
 * line order. The files were vetted when they were written (a write refuses what the source
 * check finds), so the source check is not run again here.
 */
export function combineCheck(files: FileMap, tscErrors: CheckError[]): CheckError[] {
  const errors = [...tscErrors];
  if (!('src/main.tsx' in files))
    errors.push({
      file: 'src/main.tsx',
      line: 0,
      column: 0,
      message: 'src/main.tsx is missing: index.html loads it to mount <App />',
    });
  return errors.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
}
