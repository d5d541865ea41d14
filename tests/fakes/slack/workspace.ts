import { blockKitProblems } from './block-kit-limits.ts';
import { FakeSlackSurfaces } from './surfaces.ts';

/**
 * The state behind the fake Web API: one team, its users and channels, and the messages the bot
 * posted, with Slack's answers (and error codes) for the methods a chat bot calls.
 * Transport, tokens and recording live in web-api.ts.
 */

export interface FakeSlackUser {
  id: string;
  name: string;
  real_name?: string;
  is_admin?: boolean;
  is_owner?: boolean;
  is_bot?: boolean;
}

export interface FakeSlackChannel {
  id: string;
  name: string;
  is_private?: boolean;
  /** false: the bot was never invited, so posting and sharing files there answer `not_in_channel`. */
  is_member?: boolean;
  /** The people in it (users.conversations lists a person's channels from these). */
  members?: string[];
}

export interface FakeSlackIdentity {
  teamId: string;
  teamName: string;
  /** Subdomain used in `url` and permalinks: https://<teamDomain>.slack.com/ */
  teamDomain: string;
  botUserId: string;
  botId: string;
  botName: string;
  appId: string;
}

/** A message as the fake holds it; `messages(channel)` returns copies of these. */
export interface FakeSlackMessage {
  ts: string;
  thread_ts?: string;
  text: string;
  blocks: unknown[];
  /** Who posted it: the bot user for API posts. */
  user?: string;
  /** Set for chat.postEphemeral and ephemeral response_url answers: the only user who sees it. */
  ephemeralFor?: string;
  /** chat.update and replace_original count here. */
  edits: number;
  /** Ids of the files this message shares (files.completeUploadExternal); see `fake.files()`. */
  files?: string[];
  /** Set for a message another app or bot posted (`fake.postAsPerson` with a bot_id). */
  bot_id?: string;
  subtype?: string;
  /** What chat.unfurl attached, by URL (a later call for the same URL replaces it, as Slack does). */
  unfurls?: Record<string, unknown>;
  /** A streamed message (chat.startStream): true until chat.stopStream. */
  streaming?: boolean;
  /** What was streamed into it, in order: markdown_text and task_update / plan_update / blocks chunks. */
  chunks?: Record<string, unknown>[];
}

export type ApiResult = { ok: true; [key: string]: unknown } | { ok: false; error: string; [key: string]: unknown };

type Args = Record<string, any>;

const fail = (error: string, extra: Record<string, unknown> = {}): ApiResult => ({ ok: false, error, ...extra });
const MAX_TEXT = 40_000;

export class FakeSlackWorkspace {
  private readonly byChannel = new Map<string, FakeSlackMessage[]>();
  private readonly users = new Map<string, FakeSlackUser>();
  private readonly channels: Map<string, FakeSlackChannel> | undefined;
  private lastMicros = 0;
  /** Threads, unfurls, App Home views and people's channels (surfaces.ts). */
  readonly surfaces = new FakeSlackSurfaces(this);

  /** `channels` undefined means every channel id exists (tests rarely care). */
  constructor(
    readonly identity: FakeSlackIdentity,
    users: FakeSlackUser[],
    channels: FakeSlackChannel[] | undefined,
  ) {
    this.users.set(identity.botUserId, { id: identity.botUserId, name: identity.botName, is_bot: true });
    for (const u of users) this.users.set(u.id, u);
    this.channels = channels && new Map(channels.map((c) => [c.id, c]));
  }

  /** A Slack-looking ts (`<unix seconds>.<6 digits>`), strictly increasing across every message. */
  nextTs(): string {
    this.lastMicros = Math.max(this.lastMicros + 1, Date.now() * 1000);
    return `${Math.floor(this.lastMicros / 1e6)}.${String(this.lastMicros % 1e6).padStart(6, '0')}`;
  }

  messages(channel: string): FakeSlackMessage[] {
    return structuredClone(this.byChannel.get(channel) ?? []);
  }

  /** Answers one Web API method; undefined when the fake does not implement it. */
  call(method: string, args: Args): ApiResult | undefined {
    switch (method) {
      case 'auth.test':
        return this.authTest();
      case 'chat.postMessage':
        return this.postMessage(args);
      case 'chat.update':
        return this.update(args);
      case 'chat.delete':
        return this.delete(args);
      case 'chat.postEphemeral':
        return this.postEphemeral(args);
      case 'chat.getPermalink':
        return this.permalink(args);
      case 'users.info':
        return this.userInfo(args);
      case 'conversations.info':
        return this.conversationInfo(args);
      default:
        return this.surfaces.call(method, args);
    }
  }

  /**
   * A message a person (or, with `bot_id`, another app) writes: kept like the bot's, so threads read
   * back with conversations.replies hold it. The test then sends the matching event itself.
   */
  postAsPerson(input: {
    channel: string;
    user: string;
    text: string;
    thread_ts?: string;
    bot_id?: string;
  }): FakeSlackMessage {
    const message: FakeSlackMessage = {
      ts: this.nextTs(),
      text: input.text,
      blocks: [],
      user: input.user,
      edits: 0,
      ...(input.thread_ts ? { thread_ts: input.thread_ts } : {}),
      ...(input.bot_id ? { bot_id: input.bot_id, subtype: 'bot_message' } : {}),
    };
    this.list(input.channel).push(message);
    return structuredClone(message);
  }

  /** The channels the fake knows (undefined: every id exists, none has members). */
  knownChannels(): FakeSlackChannel[] | undefined {
    return this.channels && [...this.channels.values()];
  }

  /** A known person (users.info's list), the bot included. */
  user(id: string): FakeSlackUser | undefined {
    return this.users.get(id);
  }

  /** Why the bot cannot post in `channel` (channel_not_found, not_in_channel), or undefined. */
  postProblem(channel: unknown): ApiResult | undefined {
    return this.channelProblem(channel) ?? (typeof channel === 'string' ? this.membershipProblem(channel) : undefined);
  }

  /** A message of the channel by ts (ephemeral ones excluded): the live object, for the streaming methods. */
  find(channel: string, ts: unknown): FakeSlackMessage | undefined {
    return this.list(channel).find((m) => m.ts === ts && !m.ephemeralFor);
  }

  /** Adds a bot message to the channel (the streaming methods' start). */
  add(channel: string, message: Omit<FakeSlackMessage, 'ts' | 'user' | 'edits'>): FakeSlackMessage {
    const m: FakeSlackMessage = { ...message, ts: this.nextTs(), user: this.identity.botUserId, edits: 0 };
    this.list(channel).push(m);
    return m;
  }

  /** The message object Slack returns for `m` (chat.stopStream's `message`). */
  wireMessage(m: FakeSlackMessage): Record<string, unknown> {
    return this.wire(m);
  }

  /** What a POST to a response URL does to the conversation it came from (see web-api.ts). */
  respond(target: { channel: string; user?: string; messageTs?: string }, body: Args): ApiResult {
    const list = this.list(target.channel);
    const original = target.messageTs ? list.find((m) => m.ts === target.messageTs) : undefined;
    if (body.delete_original === true || body.delete_original === 'true') {
      if (!original) return fail('message_not_found');
      list.splice(list.indexOf(original), 1);
      return { ok: true };
    }
    const problem = this.contentProblem(body, !!original && isTrue(body.replace_original));
    if (problem) return problem;
    if (isTrue(body.replace_original) && original) {
      this.edit(original, body);
      return { ok: true };
    }
    const inChannel = body.response_type === 'in_channel';
    const message: FakeSlackMessage = {
      ts: this.nextTs(),
      text: typeof body.text === 'string' ? body.text : '',
      blocks: Array.isArray(body.blocks) ? body.blocks : [],
      user: this.identity.botUserId,
      edits: 0,
      ...(typeof body.thread_ts === 'string' ? { thread_ts: body.thread_ts } : {}),
      ...(!inChannel && target.user ? { ephemeralFor: target.user } : {}),
    };
    list.push(message);
    return { ok: true };
  }

  private authTest(): ApiResult {
    const id = this.identity;
    return {
      ok: true,
      url: `https://${id.teamDomain}.slack.com/`,
      team: id.teamName,
      user: id.botName,
      team_id: id.teamId,
      user_id: id.botUserId,
      bot_id: id.botId,
      is_enterprise_install: false,
    };
  }

  /**
   * The message files.completeUploadExternal posts to share files: in the channel, or as a reply
   * when `thread_ts` names a message there. Slack says never to use a reply's ts; what it answers
   * then is not documented, so the fake refuses it (and unknown parents) with `invalid_arguments`.
   */
  shareFiles(args: { channel: string; thread_ts?: string; text: string; files: string[] }): ApiResult {
    const channelProblem = this.channelProblem(args.channel) ?? this.membershipProblem(args.channel);
    if (channelProblem) return channelProblem;
    if (args.thread_ts) {
      const parent = this.list(args.channel).find((m) => m.ts === args.thread_ts && !m.ephemeralFor);
      if (!parent || (parent.thread_ts && parent.thread_ts !== parent.ts)) return fail('invalid_arguments');
    }
    const message: FakeSlackMessage = {
      ts: this.nextTs(),
      text: args.text,
      blocks: [],
      user: this.identity.botUserId,
      edits: 0,
      files: args.files,
      ...(args.thread_ts ? { thread_ts: args.thread_ts } : {}),
    };
    this.list(args.channel).push(message);
    return { ok: true, ts: message.ts };
  }

  private postMessage(args: Args): ApiResult {
    const channelProblem = this.channelProblem(args.channel) ?? this.membershipProblem(args.channel);
    if (channelProblem) return channelProblem;
    const problem = this.contentProblem(args, false);
    if (problem) return problem;
    const message: FakeSlackMessage = {
      ts: this.nextTs(),
      text: typeof args.text === 'string' ? args.text : '',
      blocks: Array.isArray(args.blocks) ? args.blocks : [],
      user: this.identity.botUserId,
      edits: 0,
      ...(typeof args.thread_ts === 'string' && args.thread_ts ? { thread_ts: args.thread_ts } : {}),
    };
    this.list(args.channel).push(message);
    return { ok: true, channel: args.channel, ts: message.ts, message: this.wire(message) };
  }

  private update(args: Args): ApiResult {
    const channelProblem = this.channelProblem(args.channel);
    if (channelProblem) return channelProblem;
    const message = this.list(args.channel).find((m) => m.ts === args.ts && !m.ephemeralFor);
    if (!message) return fail('message_not_found');
    if (message.user !== this.identity.botUserId) return fail('cant_update_message');
    const problem = this.contentProblem(args, true);
    if (problem) return problem;
    this.edit(message, args);
    return { ok: true, channel: args.channel, ts: message.ts, text: message.text, message: this.wire(message) };
  }

  private delete(args: Args): ApiResult {
    const list = this.list(String(args.channel));
    const message = list.find((m) => m.ts === args.ts && !m.ephemeralFor);
    if (!message) return fail('message_not_found');
    list.splice(list.indexOf(message), 1);
    return { ok: true, channel: args.channel, ts: message.ts };
  }

  private postEphemeral(args: Args): ApiResult {
    const channelProblem = this.channelProblem(args.channel);
    if (channelProblem) return channelProblem;
    if (typeof args.user !== 'string' || !args.user) return fail('user_not_found');
    if (this.users.size > 1 && !this.users.has(args.user)) return fail('user_not_in_channel');
    const problem = this.contentProblem(args, false);
    if (problem) return problem;
    const message: FakeSlackMessage = {
      ts: this.nextTs(),
      text: typeof args.text === 'string' ? args.text : '',
      blocks: Array.isArray(args.blocks) ? args.blocks : [],
      user: this.identity.botUserId,
      ephemeralFor: args.user,
      edits: 0,
      ...(typeof args.thread_ts === 'string' && args.thread_ts ? { thread_ts: args.thread_ts } : {}),
    };
    this.list(args.channel).push(message);
    return { ok: true, message_ts: message.ts };
  }

  private permalink(args: Args): ApiResult {
    const channelProblem = this.channelProblem(args.channel);
    if (channelProblem) return channelProblem;
    const message = this.list(args.channel).find((m) => m.ts === args.message_ts && !m.ephemeralFor);
    if (!message) return fail('message_not_found');
    const base = `https://${this.identity.teamDomain}.slack.com/archives/${args.channel}/p${message.ts.replace('.', '')}`;
    const thread = message.thread_ts ? `?thread_ts=${message.thread_ts}&cid=${args.channel}` : '';
    return { ok: true, channel: args.channel, permalink: base + thread };
  }

  private userInfo(args: Args): ApiResult {
    const u = typeof args.user === 'string' ? this.users.get(args.user) : undefined;
    if (!u) return fail('user_not_found');
    const realName = u.real_name ?? u.name;
    return {
      ok: true,
      user: {
        id: u.id,
        team_id: this.identity.teamId,
        name: u.name,
        real_name: realName,
        deleted: false,
        is_admin: u.is_admin ?? false,
        is_owner: u.is_owner ?? false,
        is_primary_owner: false,
        is_restricted: false,
        is_ultra_restricted: false,
        is_bot: u.is_bot ?? false,
        is_app_user: false,
        tz: 'Europe/Paris',
        profile: { real_name: realName, display_name: u.name, team: this.identity.teamId },
      },
    };
  }

  private conversationInfo(args: Args): ApiResult {
    const channelProblem = this.channelProblem(args.channel);
    if (channelProblem) return channelProblem;
    const c = this.channels?.get(args.channel) ?? {
      id: String(args.channel),
      name: String(args.channel).toLowerCase(),
    };
    return {
      ok: true,
      channel: {
        id: c.id,
        name: c.name,
        is_channel: !c.is_private,
        is_group: !!c.is_private,
        is_im: false,
        is_private: !!c.is_private,
        is_archived: false,
        is_general: c.name === 'general',
        is_member: c.is_member ?? true,
        context_team_id: this.identity.teamId,
        created: 1_700_000_000,
      },
    };
  }

  channelProblem(channel: unknown): ApiResult | undefined {
    if (typeof channel !== 'string' || !channel) return fail('channel_not_found');
    if (this.channels && !this.channels.has(channel)) return fail('channel_not_found');
    return undefined;
  }

  private membershipProblem(channel: string): ApiResult | undefined {
    return this.channels?.get(channel)?.is_member === false ? fail('not_in_channel') : undefined;
  }

  /** Slack's checks on a message body; `partial` (updates) lets text and blocks be left out. */
  contentProblem(args: Args, partial: boolean): ApiResult | undefined {
    const hasText = typeof args.text === 'string' && args.text.length > 0;
    const hasBlocks = args.blocks !== undefined;
    if (!partial && !hasText && !hasBlocks && args.attachments === undefined) return fail('no_text');
    if (typeof args.text === 'string' && args.text.length > MAX_TEXT) return fail('msg_too_long');
    if (hasBlocks) {
      const errors = blockKitProblems(args.blocks);
      if (errors.length > 0) {
        return fail('invalid_blocks', { errors, response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) } });
      }
    }
    return undefined;
  }

  /** Fields left out keep their value, as Slack documents for chat.update's blocks. */
  private edit(message: FakeSlackMessage, args: Args): void {
    if (typeof args.text === 'string') message.text = args.text;
    if (Array.isArray(args.blocks)) message.blocks = args.blocks;
    message.edits += 1;
  }

  /** The message object Slack returns from chat.postMessage / chat.update. */
  private wire(m: FakeSlackMessage): Record<string, unknown> {
    const id = this.identity;
    return {
      type: 'message',
      text: m.text,
      user: m.user,
      bot_id: id.botId,
      app_id: id.appId,
      team: id.teamId,
      ts: m.ts,
      ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}),
      ...(m.blocks.length > 0 ? { blocks: m.blocks } : {}),
      ...(m.edits > 0 ? { edited: { user: m.user, ts: this.nextTs() } } : {}),
      bot_profile: { id: id.botId, app_id: id.appId, name: id.botName, team_id: id.teamId, deleted: false },
    };
  }

  /** The live list of a channel's messages (the fake's own modules change it). */
  list(channel: string): FakeSlackMessage[] {
    let list = this.byChannel.get(channel);
    if (!list) this.byChannel.set(channel, (list = []));
    return list;
  }
}

function isTrue(v: unknown): boolean {
  return v === true || v === 'true';
}
