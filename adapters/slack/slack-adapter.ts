import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { App, LogLevel, SocketModeReceiver, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../../src/core/ports/index.ts';
import type { VibeBot } from '../../src/core/bot.ts';
import type { ChatContext } from '../../src/core/chat/context.ts';
import type { MessageRef } from '../../src/core/ports/index.ts';
import { parseHomeValue } from '../../src/core/chat/actions.ts';
import { BackgroundWork, type IntakeRule } from '../background-work.ts';
import { onAppHome, publishHome } from './app-home.ts';
import { SlackHostedImages } from './hosted-images.ts';
import { onLinkShared } from './link-shared.ts';
import { mentionsBot, registerMentions, withoutMention } from './mentions.ts';
import { actionFromId } from './render-blocks.ts';
import { readHomeMetadata } from './render-home.ts';
import { SlackConversation } from './slack-conversation.ts';
import { slackAttachments } from './slack-files.ts';
import { channelKey, messageKey, userKey } from './slack-ids.ts';
import { SlackPeople } from './slack-people.ts';

export interface SlackSettings {
  botToken: string;
  /** HTTP mode: requests are verified with it. */
  signingSecret?: string;
  /** Socket Mode when set (xapp-…). */
  appToken?: string;
  /** Web API base (emulators, tests), e.g. http://127.0.0.1:3001/api/ */
  apiUrl?: string;
  /** HTTP mode: port of /slack/events (0 = any free port). */
  port: number;
  /** Socket Mode: how long to wait for a pong before reconnecting (SDK default 5 s; tests use less). */
  socketPingTimeoutMs?: number;
}

/** Connections the HTTP receiver's accept queue holds (Node's default is 511). */
const ACCEPT_BACKLOG = 4096;

export interface RunningSlack {
  mode: 'http' | 'socket';
  /** HTTP mode: the port /slack/events listens on. */
  port?: number;
  /** Resolves when every event received so far has been handled. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs the bot on Slack with @slack/bolt: `/vibe`, thread replies, buttons, shared app links
 * (unfurled) and the App Home tab. Every handler
 * acknowledges first (Slack's 3-second deadline) and then works in the background.
 */
export async function startSlack(opts: {
  bot: VibeBot;
  settings: SlackSettings;
  logger: Logger;
  /** When the work after an ack starts (tests widen it; the defaults suit Slack). */
  intake?: IntakeRule;
}): Promise<RunningSlack> {
  const { bot, settings, logger } = opts;
  const boltLogger = toBoltLogger(logger);
  const clientOptions = settings.apiUrl ? { slackApiUrl: settings.apiUrl } : {};
  const socket = Boolean(settings.appToken);
  const app = socket
    ? new App({
        token: settings.botToken,
        logger: boltLogger,
        clientOptions,
        receiver: new SocketModeReceiver({
          appToken: settings.appToken!,
          logger: boltLogger,
          clientPingTimeout: settings.socketPingTimeoutMs,
          installerOptions: { clientOptions },
        }),
      })
    : new App({
        token: settings.botToken,
        signingSecret: settings.signingSecret,
        endpoints: '/slack/events',
        logger: boltLogger,
        clientOptions,
      });

  const auth = await app.client.auth.test();
  const workspaceUrl = typeof auth.url === 'string' ? auth.url : undefined;
  const botUserId = auth.user_id ?? '';
  const files = { botToken: settings.botToken, ...(settings.apiUrl ? { apiUrl: settings.apiUrl } : {}) };
  const people = new SlackPeople(app.client, logger);
  // Posts outside any event (a note about an error a viewer of an app hit): the bot's own client.
  const disconnect = bot.connect((channelId) => {
    if (!channelId.startsWith('slack:')) return undefined;
    const [, team = '', channel = ''] = channelId.split(':');
    return new SlackConversation({ client: app.client, team, channel, user: '', workspaceUrl, logger });
  });
  const work = new BackgroundWork(logger, 'slack', opts.intake);
  const images = new SlackHostedImages(app.client, logger);
  // Bolt acknowledges events before its listeners run: tracked from the first middleware on,
  // `idle()` also covers an event whose listener has not started yet.
  // Every request is noted as it arrives: the work after an ack waits for the burst's other acks.
  app.use(
    ({ next }) =>
      new Promise<void>((resolve, reject) => (work.arrived(), work.run('event', () => next().then(resolve, reject)))),
  );

  app.command('/vibe', async ({ command, ack, client, respond }) => {
    await ack();
    work.run(
      '/vibe',
      async () => {
        const team = command.team_id;
        const conv = new SlackConversation({
          client,
          team,
          channel: command.channel_id,
          user: command.user_id,
          workspaceUrl,
          respond,
          logger,
        });
        const actor = await people.actor(team, command.user_id, command.user_name);
        await bot.command({ conv, actor, channelId: channelKey(team, command.channel_id) }, command.text ?? '');
      },
      { afterIntake: true },
    );
  });

  app.action(/^vibe:/, async ({ ack, body, action, client, respond }) => {
    await ack();
    if (body.type !== 'block_actions' || action.type !== 'button' || !('action_id' in action)) return;
    const name = actionFromId(action.action_id);
    if (!name) return; // a link button: the browser opens the link, nothing to do here
    const team = body.team?.id ?? body.user.team_id ?? '';
    if (body.container?.type === 'view') {
      // Paging the App Home: the home is published again at the pages asked for.
      const { channel } = readHomeMetadata(body.view?.private_metadata);
      if (name !== 'home' || !channel) return;
      const at = parseHomeValue(action.value ?? '');
      work.run('app home page', () => publishHome(home, client, { team, user: body.user.id, channel }, at));
      return;
    }
    work.run(
      `button ${name}`,
      async () => {
        const container = body.container as {
          message_ts?: string;
          channel_id?: string;
          thread_ts?: string;
          is_ephemeral?: boolean;
        };
        const channel = body.channel?.id ?? container.channel_id ?? '';
        const threadTs = container.thread_ts ?? (body.message as { thread_ts?: string } | undefined)?.thread_ts;
        const source: MessageRef = {
          id: messageKey(team, channel, container.message_ts ?? ''),
          channelId: channelKey(team, channel),
          threadId: threadTs ? messageKey(team, channel, threadTs) : undefined,
        };
        const conv = new SlackConversation({
          client,
          team,
          channel,
          user: body.user.id,
          threadTs,
          workspaceUrl,
          ephemeralSource: container.is_ephemeral ? { ref: source, respond } : undefined,
          logger,
        });
        const actor = await people.actor(team, body.user.id, body.user.name);
        const ctx: ChatContext = { conv, actor, channelId: source.channelId, threadId: source.threadId, source };
        await bot.action(ctx, name, action.value ?? '');
      },
      { afterIntake: true },
    );
  });

  registerMentions(app, { bot, people, work, logger, botUserId, workspaceUrl, files });

  app.event('message', async ({ event, body, client }) => {
    // New replies in threads only (with their pictures: file_share): no edits, joins or top-level
    // chatter. Bots (ourselves included) and re-deliveries (x-slack-retry-num, same event_id) are
    // the core's to drop. A mention in a thread comes here too (app_mention leaves it alone).
    const e = event as {
      subtype?: string;
      bot_id?: string;
      user?: string;
      text?: string;
      ts: string;
      thread_ts?: string;
      channel: string;
      files?: unknown;
    };
    if ((e.subtype && e.subtype !== 'file_share') || !e.user || !e.thread_ts || e.thread_ts === e.ts) return;
    const team = (body as { team_id?: string }).team_id ?? '';
    const eventId = (body as { event_id?: unknown }).event_id;
    const user = e.user;
    const threadTs = e.thread_ts;
    work.run(
      'thread reply',
      async () => {
        const place = { client, team, channel: e.channel, user, threadTs, workspaceUrl, logger, people };
        const conv = new SlackConversation(place);
        // A bot's message is dropped by the core: no users.info call for it (our own replies included).
        const actor = e.bot_id ? { id: userKey(team, user) } : await people.actor(team, user);
        const images = await slackAttachments(e.files, { client, ...files });
        await bot.threadMessage(
          {
            conv,
            actor,
            channelId: channelKey(team, e.channel),
            threadId: messageKey(team, e.channel, threadTs),
            messageId: messageKey(team, e.channel, e.ts),
            fromBot: Boolean(e.bot_id),
            mentioned: mentionsBot(e.text ?? '', botUserId),
            ...(images ? { images } : {}),
            ...(typeof eventId === 'string' ? { eventId: `slack:event:${eventId}` } : {}),
          },
          withoutMention(e.text ?? '', botUserId),
        );
      },
      { afterIntake: true },
    );
  });

  const home = { bot, people, images, work, workspaceUrl, logger };
  onLinkShared(app, home);
  onAppHome(app, home);

  app.error(async (err) => logger.error({ err }, 'slack: unhandled error in a listener'));

  // A burst of slash commands arrives at once: Node's default accept queue (511) refuses the
  // rest, and their retries come seconds later, past Slack's 3 s. The kernel caps it (somaxconn).
  const started = socket ? await app.start() : await app.start({ port: settings.port, backlog: ACCEPT_BACKLOG });
  const port = socket ? undefined : ((started as Server).address() as AddressInfo).port;
  logger.info(
    { mode: socket ? 'socket' : 'http', port, team: auth.team_id },
    socket ? 'slack: connected in Socket Mode' : `slack: listening for events on :${port}/slack/events`,
  );
  return {
    mode: socket ? 'socket' : 'http',
    port,
    idle: () => work.idle(),
    stop: () => (disconnect(), app.stop().then(() => undefined)),
  };
}

/** Bolt's logger interface on top of pino. */
function toBoltLogger(logger: Logger): BoltLogger {
  let level = LogLevel.INFO;
  const fmt = (args: unknown[]) => ({
    msg: args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '),
  });
  return {
    debug: (...args) => logger.debug({ bolt: true }, fmt(args).msg),
    info: (...args) => logger.info({ bolt: true }, fmt(args).msg),
    warn: (...args) => logger.warn({ bolt: true }, fmt(args).msg),
    error: (...args) => logger.error({ bolt: true }, fmt(args).msg),
    setLevel: (l) => void (level = l),
    getLevel: () => level,
    setName: () => undefined,
  };
}
