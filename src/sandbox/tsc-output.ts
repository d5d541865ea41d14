import { isAbsolute, relative } from 'node:path';
import type { CheckError } from '../core/ports/index.ts';

// "src/App.tsx(12,5): error TS2304: Cannot find name 'x'." (tsc --pretty false)
const LOCATED = /^(.+?)\((\d+),(\d+)\): error (TS\d+: .*)$/;
// "error TS5083: Cannot read file '...'." (no location)
const GLOBAL = /^error (TS\d+: .*)$/;

/** Parses `tsc --pretty false` output into errors with file paths relative to `appDir`. */
export function parseTscOutput(output: string, appDir: string): CheckError[] {
  const errors: CheckError[] = [];
  for (const line of output.split(/\r?\n/)) {
    const located = LOCATED.exec(line);
    if (located) {
      const [, file = '', ln = '0', col = '0', message = ''] = located;
      errors.push({
        file: isAbsolute(file) ? relative(appDir, file) : file,
        line: Number(ln),
        column: Number(col),
        message,
      });
      continue;
    }
    const global = GLOBAL.exec(line);
    if (global) {
      errors.push({ file: '', line: 0, column: 0, message: global[1] ?? line });
      continue;
    }
    // tsc indents the rest of a multi-line message (e.g. "Type 'x' is not assignable ...").
    const last = errors.at(-1);
    if (last && /^\s+\S/.test(line)) last.message += `\n${line.trim()}`;
  }
  return errors;
}
