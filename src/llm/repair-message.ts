import { formatCheckError } from '../core/build/check-errors.ts';
import type { CheckError } from '../core/ports/index.ts';

/** At most this many errors are shown; the rest are counted. */
const SHOWN = 20;

/** The user message of a repair round: what the checks found, and how to fix it (one instruction, worded here only). */
export function repairMessage(errors: CheckError[]): string {
  const shown = errors.slice(0, SHOWN).map(formatCheckError);
  const more = errors.length > shown.length ? `\n(and ${errors.length - shown.length} more)` : '';
  const what = errors.every((e) => e.source === 'browser')
    ? 'The app compiles, but it fails when it is opened in a browser. The browser reported:'
    : 'The app does not build. The checks reported:';
  return `${what}
${shown.join('\n')}${more}

Fix these errors with minimal edits (\`str_replace\`), changing nothing else.`;
}
