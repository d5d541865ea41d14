import type { DestinationStream } from 'pino';

/**
 * The terminal chat's view of the log: each pino entry it is given (warnings and errors) as one
 * plain line, `warning: <msg>: <error> (key value, …)`, never JSON. The full JSON log goes to a
 * file beside it (src/main.ts).
 */

const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warning',
  50: 'error',
  60: 'fatal',
};
/** pino's own fields, and those shown in their own place on the line. */
const SHOWN_APART = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'err']);
const MAX_CHARS = 400;

/** One pino JSON entry as one line for the terminal; a line that is not JSON is only made safe. */
export function plainLogLine(json: string): string {
  let entry: unknown;
  try {
    entry = JSON.parse(json);
  } catch {
    return oneLine(json);
  }
  if (typeof entry !== 'object' || entry === null) return oneLine(json);
  const e = entry as Record<string, unknown>;
  let text = `${LEVELS[e.level as number] ?? 'log'}: ${typeof e.msg === 'string' ? e.msg : ''}`;
  const err = errorText(e.err);
  if (err) text += `: ${err}`;
  const fields = Object.entries(e)
    .filter(
      ([k, v]) => !SHOWN_APART.has(k) && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'),
    )
    .map(([k, v]) => `${k} ${String(v)}`);
  if (fields.length > 0) text += ` (${fields.join(', ')})`;
  return oneLine(text);
}

/** pino serialises an Error as `{ type, message, stack }`; some callers log only its message. */
function errorText(err: unknown): string {
  if (typeof err === 'string') return err.split('\n')[0]!;
  if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string')
    return (err as { message: string }).message.split('\n')[0]!;
  return '';
}

/**
 * Log text may carry words from outside (an error a sandbox or a store printed): no control
 * or format characters (so no terminal escape sequences, bidi overrides or line breaks), bounded.
 */
function oneLine(text: string): string {
  const flat = text.replace(/[\s\p{Cc}\p{Cf}]+/gu, ' ').trim();
  return flat.length > MAX_CHARS ? `${flat.slice(0, MAX_CHARS - 1)}…` : flat;
}

/**
 * A pino destination that prints each entry as a plain line through `print`. The chat takes the
 * printing over while it runs (`printThrough`), so a warning lands between its messages, above
 * the prompt, instead of across what you are typing.
 */
export class PlainLogStream implements DestinationStream {
  constructor(private print: (line: string) => void) {}

  write(chunk: string): void {
    for (const line of chunk.split('\n')) if (line.trim()) this.print(plainLogLine(line));
  }

  /** Prints through `print` until the returned function is called. */
  printThrough(print: (line: string) => void): () => void {
    const before = this.print;
    this.print = print;
    return () => {
      this.print = before;
    };
  }
}
