import { clearLine, createInterface, cursorTo } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { VibeBot } from '../../src/core/bot.ts';
import type { Card, Logger } from '../../src/core/ports/index.ts';
import type { PlainLogStream } from './log-lines.ts';
import { renderCardText } from './render-text.ts';
import { SHELL_HELP, ShellChat, type ShellEvent, type ShellInput } from './shell-chat.ts';

export interface ShellOptions {
  bot: VibeBot;
  input: Readable;
  output: Writable;
  /** One JSON object per line out, commands (text or JSON objects) in. */
  json: boolean;
  banner?: string[];
  /**
   * Screenshots go to `<dataDir>/screenshots/`, cards' files to `<dataDir>/exports/` (default
   * `./data`, where the bot keeps its log).
   */
  dataDir?: string;
  /** Where a screenshot or file that could not be saved is reported. */
  logger?: Pick<Logger, 'warn'>;
  /** The log's warnings as plain lines (text mode): printed between the chat's messages while it runs. */
  logLines?: PlainLogStream;
}

/**
 * Runs the terminal chat until the input ends (then waits for the bot to finish what is
 * under way) or the user types /quit.
 */
export async function runShell(opts: ShellOptions): Promise<void> {
  const interactive = !opts.json && 'isTTY' in opts.input && Boolean((opts.input as { isTTY?: boolean }).isTTY);
  const rl = createInterface({
    input: opts.input,
    output: interactive ? opts.output : undefined,
    terminal: interactive,
  });
  const write = (s: string) => opts.output.write(s + '\n');
  // The prompt names where a line you type goes: the channel, or the app's thread.
  const prompt = () =>
    interactive &&
    rl.setPrompt(chat.thread ? `#${chat.channel} › thread ${chat.thread.split(':')[2]}> ` : `#${chat.channel}> `);
  // The bot speaks while you type: clear the prompt line, print, then redraw what you typed.
  const show = (s: string) => {
    if (!interactive) return write(s);
    clearLine(opts.output, 0);
    cursorTo(opts.output, 0);
    write(s);
    prompt();
    rl.prompt(true);
  };
  const sink = opts.json
    ? (e: ShellEvent) => write(JSON.stringify(toJson(e), noBytes))
    : (e: ShellEvent) => show(formatEvent(e));
  const chat = new ShellChat(opts.bot, sink, { dataDir: opts.dataDir, logger: opts.logger });
  if (!opts.json) {
    for (const line of opts.banner ?? []) write(line);
    write(SHELL_HELP);
  }
  const detachLog = opts.json ? undefined : opts.logLines?.printThrough(show);
  prompt();
  if (interactive) rl.prompt();
  for await (const line of rl) {
    if (line.trim() === '/quit') break;
    const input = opts.json ? parseJsonLine(line, write) : { text: line };
    if (input) void chat.handle(input);
    prompt();
    if (interactive) rl.prompt();
  }
  detachLog?.(); // the prompt goes away: later lines are printed plainly
  rl.close();
  await opts.bot.idle();
}

function parseJsonLine(line: string, write: (s: string) => void): ShellInput | undefined {
  const t = line.trim();
  if (!t.startsWith('{')) return { text: line };
  try {
    const v = JSON.parse(t) as ShellInput;
    if (typeof v !== 'object' || v === null) throw new Error('not an object');
    return v;
  } catch (err) {
    write(JSON.stringify({ type: 'info', text: `bad JSON input: ${(err as Error).message}` }));
    return undefined;
  }
}

/** The --json output line: the event plus the app's id, version, link and state when known. */
function toJson(e: ShellEvent): Record<string, unknown> {
  const meta = e.card?.meta ?? {};
  return { ...e, app: meta.appId, version: meta.version, url: meta.url, state: meta.state };
}

/**
 * Bytes never reach the JSON output: a card's picture is saved and shown by its path, its file by
 * `{ name, mime, path, bytes }` with `bytes` the size.
 */
function noBytes(key: string, value: unknown): unknown {
  if (key === 'file' && isCardFile(value)) {
    const { name, mime, path, bytes } = value;
    return { name, mime, path, bytes: bytes.byteLength };
  }
  return key === 'png' || value instanceof Uint8Array ? undefined : value;
}

const isCardFile = (value: unknown): value is NonNullable<Card['file']> =>
  typeof value === 'object' && value !== null && (value as { bytes?: unknown }).bytes instanceof Uint8Array;

function formatEvent(e: ShellEvent): string {
  const num = e.id?.split(':')[2];
  const where = `#${e.channel}${e.thread && e.type !== 'thread' ? ` › thread ${e.thread.split(':')[2]}` : ''}`;
  const body = e.card ? renderCardText(e.card) : [e.text ?? ''];
  switch (e.type) {
    case 'post':
      return indent(`[${where} ${num}] vibe-bot:`, body);
    case 'reply':
      return indent(`[${where} ${num}] vibe-bot:`, body);
    case 'update':
      return indent(`[${where} ${num} edited]`, body);
    case 'ephemeral':
      return indent(`[${where}] (only you see this)`, body);
    case 'thread':
      return `[${where}] thread ${num} started: you are in it now; type to change the app, /back to leave.`;
    case 'info':
      return body.join('\n');
  }
}

function indent(head: string, lines: string[]): string {
  return [head, ...lines.map((l) => `  ${l}`)].join('\n');
}
