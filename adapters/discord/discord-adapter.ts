import {
  Client,
  Events,
  GatewayIntentBits,
  MessageFlags,
  PermissionFlagsBits,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Interaction,
  type Message,
} from 'discord.js';
import type { Logger } from '../../src/core/ports/index.ts';
import type { VibeBot } from '../../src/core/bot.ts';
import type { ChatContext } from '../../src/core/chat/context.ts';
import type { Actor, MessageRef } from '../../src/core/ports/index.ts';
import { BackgroundWork, type IntakeRule } from '../background-work.ts';
import { commandFromInteraction, DISCORD_USAGE } from './commands.ts';
import { DiscordConversation } from './discord-conversation.ts';
import { DiscordLinkConversation, embeddableLinks } from './link-replies.ts';
import { discordAttachments, withoutMention } from './mentions.ts';
import { channelKey, messageKey, parseKey, userKey } from './discord-ids.ts';
import { parseCustomId } from './render-discord.ts';

export interface DiscordSettings {
  token: string;
  /** REST base (emulators, tests), e.g. http://127.0.0.1:4000/api; the gateway URL comes from its /gateway/bot. */
  apiUrl?: string;
}

export interface RunningDiscord {
  client: Client;
  /** Resolves when every event received so far has been handled. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs the bot on Discord with discord.js: `/vibe` subcommands, thread messages, and buttons.
 * Interactions are deferred at once (Discord's 3-second deadline) and answered in the background.
 */
export async function startDiscord(opts: {
  bot: VibeBot;
  settings: DiscordSettings;
  logger: Logger;
  /** When an interaction's work starts after its deferred reply (tests widen it; the defaults suit Discord). */
  intake?: IntakeRule;
}): Promise<RunningDiscord> {
  const { bot, settings, logger } = opts;
  const client = new Client({
    // MessageContent is privileged: without it, thread messages arrive with empty text.
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent],
    allowedMentions: { parse: [] },
    ...(settings.apiUrl ? { rest: { api: settings.apiUrl } } : {}),
  });
  const work = new BackgroundWork(logger, 'discord', opts.intake);
  // Posts outside any event (a note about an error a viewer of an app hit): plain REST.
  const disconnect = bot.connect((channelId) => {
    if (!channelId.startsWith('discord:')) return undefined;
    const { guild, channel } = parseKey(channelId);
    return new DiscordConversation({ rest: client.rest, guild, channel, logger });
  });

  client.on(Events.InteractionCreate, (it: Interaction) => {
    work.arrived(); // each interaction's work waits, after its own deferred reply, for a burst's others
    if (it.isChatInputCommand() && it.commandName === 'vibe') work.run('/vibe', () => onCommand(it));
    else if (it.isButton() && parseCustomId(it.customId)) work.run('button', () => onButton(it));
  });
  client.on(Events.MessageCreate, (m: Message) => work.run('thread message', () => onMessage(m)));
  client.on(Events.Error, (err) => logger.error({ err }, 'discord: client error'));
  client.on(Events.ShardResume, () => logger.info({}, 'discord: gateway resumed'));

  async function onCommand(it: ChatInputCommandInteraction): Promise<void> {
    const cmd = commandFromInteraction(it);
    const deferred = cmd.kind === 'create' ? 'public' : 'ephemeral';
    await it.deferReply(deferred === 'ephemeral' ? { flags: MessageFlags.Ephemeral } : {});
    await work.intakeQuiet();
    const parent = it.channel?.isThread() ? (it.channel.parentId ?? undefined) : undefined;
    const conv = new DiscordConversation({
      rest: client.rest,
      guild: it.guildId ?? 'dm',
      channel: it.channelId,
      interaction: { it, deferred },
      logger,
      ...(parent ? { parent } : {}),
    });
    const image = cmd.kind === 'create' ? it.options.getAttachment('image') : null;
    const images = discordAttachments(image ? [image] : undefined, settings.apiUrl);
    await bot.dispatch({ ...context(it, conv), ...(images ? { images } : {}) }, cmd);
    await conv.finish();
  }

  async function onButton(it: ButtonInteraction): Promise<void> {
    const { action, value } = parseCustomId(it.customId)!;
    const guild = it.guildId ?? 'dm';
    const source: MessageRef = {
      id: messageKey(guild, it.channelId, it.message.id),
      channelId: channelKey(guild, it.channelId),
    };
    // Paging rewrites the gallery in place; every other button answers privately.
    const deferred = action === 'gallery' || action === 'mine' ? 'update' : 'ephemeral';
    if (deferred === 'update') await it.deferUpdate();
    else await it.deferReply({ flags: MessageFlags.Ephemeral });
    await work.intakeQuiet();
    const conv = new DiscordConversation({
      rest: client.rest,
      guild,
      channel: it.channelId,
      interaction: { it, deferred, source },
      logger,
    });
    await bot.action({ ...context(it, conv), source }, action, value);
    await conv.finish();
  }

  async function onMessage(m: Message): Promise<void> {
    // App links anywhere get a reply with their cards (unless the message suppresses embeds, or
    // names the bot: then it is a request, and the app it builds is the answer);
    // messages in threads, and mentions of the bot in a channel (they create, as /vibe create
    // does); never other channel chatter. Bots (ourselves included) and re-deliveries after a
    // gateway RESUME are the core's to drop.
    if (!m.inGuild()) return;
    const botId = client.user?.id ?? '';
    const named = m.mentions.users.has(botId);
    const guild = m.guildId;
    const inThread = m.channel.isThread();
    const parent = m.channel.isThread() ? (m.channel.parentId ?? undefined) : undefined;
    const place = { rest: client.rest, guild, channel: m.channelId, logger, ...(parent ? { parent } : {}) };
    const actor: Actor = {
      id: userKey(guild, m.author.id),
      name: m.member?.displayName ?? m.author.username,
      isManager: Boolean(m.member?.permissions.has(PermissionFlagsBits.ManageMessages)),
    };
    const images = discordAttachments(m.attachments.values(), settings.apiUrl);
    const base = {
      actor,
      channelId: channelKey(guild, parent ?? m.channelId),
      usage: DISCORD_USAGE,
      messageId: messageKey(guild, m.channelId, m.id),
      fromBot: m.author.bot || m.system,
      mentioned: named,
    };
    const text = withoutMention(m.content, botId);
    const asked = { ...base, ...(images ? { images } : {}), eventId: `discord:message:${m.id}` };
    const links = m.flags.has(MessageFlags.SuppressEmbeds) ? [] : embeddableLinks(m.content);
    await Promise.all([
      links.length > 0 &&
        !named &&
        bot.linkShared(
          { ...base, conv: new DiscordLinkConversation(place, m.id), eventId: `discord:links:${m.id}` },
          links,
        ),
      inThread &&
        bot.threadMessage(
          { ...asked, conv: new DiscordConversation(place), threadId: channelKey(guild, m.channelId) },
          text,
        ),
      !inThread && named && bot.command({ ...asked, conv: new DiscordConversation(place) }, text),
    ]);
  }

  /** Where and who: in a thread, the app's channel is the thread's parent. */
  function context(it: ChatInputCommandInteraction | ButtonInteraction, conv: DiscordConversation): ChatContext {
    const guild = it.guildId ?? 'dm';
    const channel = it.channel;
    const inThread = Boolean(channel?.isThread());
    const parent = inThread && channel?.isThread() ? channel.parentId : undefined;
    const actor: Actor = {
      id: userKey(guild, it.user.id),
      name: it.inCachedGuild() ? it.member.displayName : it.user.username,
      isManager: Boolean(it.memberPermissions?.has(PermissionFlagsBits.ManageMessages)),
    };
    return {
      conv,
      actor,
      channelId: channelKey(guild, parent ?? it.channelId),
      threadId: inThread ? channelKey(guild, it.channelId) : undefined,
      usage: DISCORD_USAGE,
      // Several bot processes connected to the gateway may each see it: the store lets one act.
      eventId: `discord:interaction:${it.id}`,
    };
  }

  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  await client.login(settings.token);
  await ready;
  logger.info({ user: client.user?.tag, guilds: client.guilds.cache.size }, 'discord: connected to the gateway');
  return { client, idle: () => work.idle(), stop: () => (disconnect(), client.destroy()) };
}
