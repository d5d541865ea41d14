import {
  ChannelType,
  GuildMemberFlags,
  PermissionFlagsBits,
  type APIGuildMember,
  type APIGuildTextChannel,
  type APIRole,
  type APIUser,
  type GatewayGuildCreateDispatchData,
} from 'discord.js';
import type { SnowflakeGenerator } from './snowflakes.ts';

/**
 * The one guild the fake bot lives in: ids, users, roles, members and a #general text channel, in
 * the shapes Discord sends (GUILD_CREATE carries all of them). Tests read ids from here.
 */

export interface FixtureOptions {
  /** Bot token; REST wants `Authorization: Bot <token>` and IDENTIFY must carry it. */
  token?: string;
  botName?: string;
  guildName?: string;
  channelName?: string;
  userName?: string;
}

/** What the bot may do in the guild: enough for messages, embeds, threads and slash commands. */
export const BOT_PERMISSIONS =
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.SendMessagesInThreads |
  PermissionFlagsBits.CreatePublicThreads |
  PermissionFlagsBits.EmbedLinks |
  PermissionFlagsBits.AttachFiles |
  PermissionFlagsBits.ReadMessageHistory |
  PermissionFlagsBits.UseApplicationCommands;

/** @everyone in a fresh server: members can talk, start threads and run commands. */
export const EVERYONE_PERMISSIONS =
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.SendMessagesInThreads |
  PermissionFlagsBits.CreatePublicThreads |
  PermissionFlagsBits.EmbedLinks |
  PermissionFlagsBits.ReadMessageHistory |
  PermissionFlagsBits.UseApplicationCommands;

export interface DiscordFixture {
  token: string;
  applicationId: string;
  bot: APIUser;
  /** A human member who runs commands and writes in threads. */
  user: APIUser;
  guildId: string;
  guildName: string;
  /** #general, a guild text channel (type 0). */
  textChannel: APIGuildTextChannel<ChannelType.GuildText>;
  roles: APIRole[];
  /** Members keyed by user id. */
  members: Map<string, APIGuildMember>;
  joinedAt: string;
}

export function createFixture(ids: SnowflakeGenerator, options: FixtureOptions = {}): DiscordFixture {
  const joinedAt = new Date().toISOString();
  // Discord bots' user id equals their application id.
  const applicationId = ids.next();
  const guildId = ids.next();
  const bot = user(applicationId, options.botName ?? 'vibe-bot', true);
  const human = user(ids.next(), options.userName ?? 'alice', false);
  const botRoleId = ids.next();
  const roles = [
    role(guildId, '@everyone', EVERYONE_PERMISSIONS, 0, false),
    { ...role(botRoleId, bot.username, BOT_PERMISSIONS, 1, true), tags: { bot_id: bot.id } },
  ];
  const members = new Map<string, APIGuildMember>([
    [bot.id, member(bot, [botRoleId], joinedAt)],
    [human.id, member(human, [], joinedAt)],
  ]);
  const textChannel: APIGuildTextChannel<ChannelType.GuildText> = {
    id: ids.next(),
    type: ChannelType.GuildText,
    guild_id: guildId,
    name: options.channelName ?? 'general',
    position: 0,
    permission_overwrites: [],
    parent_id: null,
    topic: null,
    nsfw: false,
    last_message_id: null,
    rate_limit_per_user: 0,
    default_auto_archive_duration: 1440,
  };
  return {
    token: options.token ?? 'fake-discord-bot-token',
    applicationId,
    bot,
    user: human,
    guildId,
    guildName: options.guildName ?? 'Vibe Test Server',
    textChannel,
    roles,
    members,
    joinedAt,
  };
}

/** The full GUILD_CREATE payload discord.js caches the guild, its roles, members and channels from. */
export function guildCreateData(
  f: DiscordFixture,
  threads: GatewayGuildCreateDispatchData['threads'],
): GatewayGuildCreateDispatchData {
  return {
    id: f.guildId,
    name: f.guildName,
    icon: null,
    splash: null,
    discovery_splash: null,
    banner: null,
    description: null,
    owner_id: f.user.id,
    afk_channel_id: null,
    afk_timeout: 300,
    verification_level: 0,
    default_message_notifications: 1,
    explicit_content_filter: 0,
    roles: f.roles,
    emojis: [],
    stickers: [],
    features: [],
    mfa_level: 0,
    application_id: null,
    system_channel_id: f.textChannel.id,
    system_channel_flags: 0 as GatewayGuildCreateDispatchData['system_channel_flags'],
    rules_channel_id: null,
    vanity_url_code: null,
    premium_tier: 0,
    premium_subscription_count: 0,
    preferred_locale: 'en-US' as GatewayGuildCreateDispatchData['preferred_locale'],
    public_updates_channel_id: null,
    max_members: 500000,
    max_video_channel_users: 25,
    max_stage_video_channel_users: 50,
    nsfw_level: 0,
    premium_progress_bar_enabled: false,
    hub_type: null,
    safety_alerts_channel_id: null,
    incidents_data: null,
    joined_at: f.joinedAt,
    large: false,
    unavailable: false,
    member_count: f.members.size,
    voice_states: [],
    members: [...f.members.values()],
    channels: [f.textChannel],
    threads,
    presences: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}

/** A member's permission bitfield as Discord sends it in interactions (a decimal string). */
export function memberPermissions(f: DiscordFixture, userId: string): string {
  const m = f.members.get(userId);
  let bits = EVERYONE_PERMISSIONS;
  for (const r of f.roles) if (m?.roles.includes(r.id)) bits |= BigInt(r.permissions);
  return bits.toString();
}

function user(id: string, username: string, bot: boolean): APIUser {
  return {
    id,
    username,
    discriminator: '0',
    global_name: bot ? null : username,
    avatar: null,
    ...(bot ? { bot: true } : {}),
  };
}

function role(id: string, name: string, permissions: bigint, position: number, managed: boolean): APIRole {
  return {
    id,
    name,
    color: 0,
    colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
    hoist: false,
    icon: null,
    unicode_emoji: null,
    position,
    permissions: permissions.toString(),
    managed,
    mentionable: false,
    flags: 0 as APIRole['flags'],
  };
}

function member(u: APIUser, roles: string[], joinedAt: string): APIGuildMember {
  return {
    user: u,
    nick: null,
    avatar: null,
    banner: null,
    roles,
    joined_at: joinedAt,
    premium_since: null,
    deaf: false,
    mute: false,
    flags: GuildMemberFlags.CompletedOnboarding,
    pending: false,
  };
}

/**
 * Adds a human member before the client logs in; with `permissions`, also a role that grants
 * them (e.g. PermissionFlagsBits.ManageMessages for a moderator). Returns the user id.
 */
export function addMember(f: DiscordFixture, ids: SnowflakeGenerator, name: string, permissions?: bigint): string {
  const u = user(ids.next(), name, false);
  const roleIds: string[] = [];
  if (permissions !== undefined) {
    const r = role(ids.next(), `${name}-role`, permissions, f.roles.length, false);
    f.roles.push(r);
    roleIds.push(r.id);
  }
  f.members.set(u.id, member(u, roleIds, new Date().toISOString()));
  return u.id;
}
