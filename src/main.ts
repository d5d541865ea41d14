import { join } from 'node:path';
import pino from 'pino';
import { PlainLogStream } from '../adapters/shell/log-lines.ts';
import { runShell } from '../adapters/shell/run-shell.ts';
import { startDiscord } from '../adapters/discord/discord-adapter.ts';
import { startSlack } from '../adapters/slack/slack-adapter.ts';
import { buildVibeApp } from './app.ts';
import { ConfigError, configOrReport, type Config } from './config.ts';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  // --shell (and --json, which scripts drive) keep the terminal chat even when platform credentials are set.
  const shellOnly = json || args.includes('--shell');
  const config = configOrReport();
  if (!config) return 2; // bad settings: one message listing each, exit code 2
  const onPlatform = Boolean(config.SLACK_BOT_TOKEN || config.DISCORD_TOKEN) && !shellOnly;
  const { logger, screen } = makeLogger(config, json || onPlatform);
  const app = await buildVibeApp(config, logger, { shared: onPlatform });

  const closers: (() => Promise<void>)[] = [];
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    for (const close of closers) await close().catch((err) => logger.error({ err }, 'adapter did not stop cleanly'));
    await app.close();
    process.exit(0);
  };
  // A bug in one request must not take every app and conversation down with it: log it loudly.
  process.on('unhandledRejection', (err) =>
    logger.error({ err }, 'unhandled rejection (a bug): the bot keeps running'),
  );
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  const platforms: string[] = [];
  if (config.SLACK_BOT_TOKEN && !shellOnly) {
    const slack = await startSlack({
      bot: app.bot,
      logger,
      settings: {
        botToken: config.SLACK_BOT_TOKEN,
        signingSecret: config.SLACK_SIGNING_SECRET,
        appToken: config.SLACK_APP_TOKEN,
        apiUrl: config.SLACK_API_URL,
        port: config.PORT,
      },
    });
    closers.push(() => slack.stop());
    platforms.push(`Slack (${slack.mode === 'socket' ? 'Socket Mode' : `HTTP mode, :${slack.port}/slack/events`})`);
  }
  if (config.DISCORD_TOKEN && !shellOnly) {
    const discord = await startDiscord({
      bot: app.bot,
      logger,
      settings: { token: config.DISCORD_TOKEN, apiUrl: config.DISCORD_API_URL },
    });
    closers.push(() => discord.stop());
    platforms.push(`Discord (as ${discord.client.user?.tag ?? 'the bot'})`);
  }
  if (platforms.length > 0) {
    process.stderr.write(
      `vibe-bot is on ${platforms.join(' and ')}; model: ${app.model.label}; app links at ${app.linkPattern}. Ctrl-C stops it.\n`,
    );
    await new Promise<never>(() => undefined); // runs until a signal
  }

  // With no platform credentials the terminal chat is the bot's home (Hubot's "shell" adapter idea).
  const banner = [
    shellOnly
      ? 'vibe-bot: terminal chat (shell adapter).'
      : 'vibe-bot: no Slack or Discord credentials are set, so this is the terminal chat (shell adapter).',
    app.model.offline
      ? 'Model: offline sample model (no ANTHROPIC_API_KEY): /vibe answers with built-in sample apps, which cannot be edited.'
      : `Model: ${app.model.label} (Claude).`,
    `App links are served at ${app.linkPattern}. Logs: ${json ? 'stderr' : logFile(config)}.`,
  ];
  logger.info('no Slack or Discord credentials: starting the shell adapter');
  await runShell({
    bot: app.bot,
    input: process.stdin,
    output: process.stdout,
    json,
    banner,
    dataDir: config.VIBE_DATA_DIR,
    logger,
    logLines: screen,
  });
  await app.close();
  return 0;
}

const logFile = (config: Config) => join(config.VIBE_DATA_DIR, 'vibe.log');

/**
 * Logs go to stderr as JSON, except in the terminal chat, where the screen is the chat: there
 * warnings and errors are one plain line each (`screen`, which the chat prints between its
 * messages), and the whole JSON log goes to VIBE_DATA_DIR/vibe.log.
 */
function makeLogger(config: Config, toStderr: boolean): { logger: pino.Logger; screen?: PlainLogStream } {
  if (toStderr) return { logger: pino({ level: config.LOG_LEVEL }, pino.destination(2)) };
  const screen = new PlainLogStream((line) => process.stdout.write(`${line}\n`));
  const logger = pino(
    { level: config.LOG_LEVEL },
    pino.multistream([
      { level: 'warn', stream: screen },
      {
        level: config.LOG_LEVEL === 'silent' ? 'fatal' : config.LOG_LEVEL,
        stream: pino.destination({ dest: logFile(config), mkdir: true, sync: true }),
      },
    ]),
  );
  return { logger, screen };
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`vibe-bot will not start: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(
      `vibe-bot could not start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
