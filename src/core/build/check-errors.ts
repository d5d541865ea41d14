import type { CheckError } from '../ports/index.ts';

/** One check error as a line: "src/App.tsx:3:7 TS2304: …" (or "src/main.tsx: …" without a position). */
export function formatCheckError(e: CheckError): string {
  return e.line > 0 ? `${e.file}:${e.line}:${e.column} ${e.message}` : `${e.file}: ${e.message}`;
}
