import { PassThrough } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { PlainLogStream, plainLogLine } from '../../adapters/shell/log-lines.ts';
import { runShell } from '../../adapters/shell/run-shell.ts';
import type { VibeBot } from '../../src/core/bot.ts';
import type { ChatContext } from '../../src/core/chat/context.ts';

// The terminal chat shows the log's warnings and errors as one plain line each, never JSON.

/** A real pino logger whose warnings and errors go to a PlainLogStream (as src/main.ts builds it). */
function screenLogger(): { logger: pino.Logger; screen: PlainLogStream; printed: string[] } {
  const printed: string[] = [];
  const screen = new PlainLogStream((line) => printed.push(line));
  const logger = pino({ level: 'info' }, pino.multistream([{ level: 'warn', stream: screen }]));
  return { logger, screen, printed };
}

describe('plain log lines', () => {
  it('a warning is "warning: <msg>", info never reaches the screen', () => {
    const { logger, printed } = screenLogger();
    logger.info('starting');
    logger.warn(
      {},
      'no Chromium or Chrome found (VIBE_BROWSER=auto): apps are not opened in a browser before their link is posted, and cards say so. Install one (Debian/Ubuntu: apt-get install chromium) or set VIBE_BROWSER to its path.',
    );
    expect(printed).toEqual([
      'warning: no Chromium or Chrome found (VIBE_BROWSER=auto): apps are not opened in a browser before their link is posted, and cards say so. Install one (Debian/Ubuntu: apt-get install chromium) or set VIBE_BROWSER to its path.',
    ]);
  });

  it("an error's message (first line) and the entry's plain fields follow the message", () => {
    const { logger, printed } = screenLogger();
    const err = new Error('connect ECONNREFUSED 127.0.0.1:6379\nsecond line');
    logger.error({ err, appId: 'k3j9x0q2ab', attempt: 2, refused: ['src/a.ts'] }, 'gateway: could not start the app');
    logger.warn({ err: 'net::ERR_FAILED\nat page', url: 'http://x/' }, 'screenshot failed');
    logger.fatal('gone');
    expect(printed).toEqual([
      'error: gateway: could not start the app: connect ECONNREFUSED 127.0.0.1:6379 (appId k3j9x0q2ab, attempt 2)',
      'warning: screenshot failed: net::ERR_FAILED (url http://x/)',
      'fatal: gone',
    ]);
  });

  it('words from outside cannot move the cursor, retitle the terminal, break the line or reorder it', () => {
    const hostile = 'boom\x1b[2J\x1b]0;owned\x07\r\nfake: line\u202Eevil\u2066';
    const line = plainLogLine(JSON.stringify({ level: 40, msg: `sandbox said ${hostile}`, err: { message: hostile } }));
    expect(line).not.toMatch(/[\p{Cc}\p{Cf}]/u);
    expect(line.startsWith('warning: sandbox said boom [2J ]0;owned fake: line evil')).toBe(true);
    expect(plainLogLine(JSON.stringify({ level: 40, msg: 'x'.repeat(5000) })).length).toBeLessThanOrEqual(400);
    expect(plainLogLine('not json \x1b[31m')).toBe('not json [31m');
  });
});

describe('the terminal chat prints warnings between its messages', () => {
  /** A bot whose command logs a warning while it works, then posts a card. */
  const warningBot = (logger: pino.Logger) =>
    ({
      command: async (ctx: ChatContext) => {
        logger.warn({}, 'bwrap is missing or unusable here: local sandboxes run WITHOUT isolation');
        await ctx.conv.post({ title: 'Focus Timer' });
      },
      connect: () => () => undefined,
      idle: async () => undefined,
    }) as unknown as VibeBot;

  async function run(json: boolean) {
    const { logger, screen, printed } = screenLogger();
    const input = new PassThrough();
    const output = new PassThrough();
    const chunks: string[] = [];
    output.on('data', (d: Buffer) => chunks.push(d.toString()));
    const done = runShell({ bot: warningBot(logger), input, output, json, logLines: screen });
    input.end('/vibe a timer\n');
    await done;
    logger.warn('after the chat');
    return { out: chunks.join('').split('\n').filter(Boolean), printed };
  }

  it('text mode: the warning is a plain line of the chat; after the chat lines go back to their own place', async () => {
    const { out, printed } = await run(false);
    expect(out).toContain('warning: bwrap is missing or unusable here: local sandboxes run WITHOUT isolation');
    expect(out.findIndex((l) => l.startsWith('warning:'))).toBeLessThan(
      out.findIndex((l) => l.includes('Focus Timer')),
    );
    expect(out.filter((l) => l.trimStart().startsWith('{'))).toEqual([]);
    expect(printed).toEqual(['warning: after the chat']);
  });

  it('--json: the output stays one JSON object per line; the warning goes to its own place', async () => {
    const { out, printed } = await run(true);
    for (const l of out) expect(() => JSON.parse(l) as unknown, l).not.toThrow();
    expect(printed).toEqual([
      'warning: bwrap is missing or unusable here: local sandboxes run WITHOUT isolation',
      'warning: after the chat',
    ]);
  });
});
