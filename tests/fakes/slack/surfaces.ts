import { blockKitProblems } from './block-kit-limits.ts';
import type { ApiResult, FakeSlackMessage, FakeSlackWorkspace } from './workspace.ts';

/**
 * What the fake Slack offers beyond posting: reading a thread back (`conversations.replies`),
 * unfurling a posted link (`chat.unfurl`), the App Home tab (`views.publish`) and the channels a
 * person is in (`users.conversations`), with the arguments, limits and error codes Slack
 * documents. Messages are the workspace's own (people's included: `postAsPerson`).
 */

type Args = Record<string, any>;

const fail = (error: string, extra: Record<string, unknown> = {}): ApiResult => ({ ok: false, error, ...extra });
/** A view (modal or home) holds at most 100 blocks; `private_metadata` at most 3,000 characters. */
const VIEW_BLOCKS = 100;
const PRIVATE_METADATA = 3000;

export interface FakeSlackView {
  id: string;
  hash: string;
  view: Record<string, any>;
}

export class FakeSlackSurfaces {
  /** The App Home view published for each user (the latest). */
  readonly views = new Map<string, FakeSlackView>();
  /** Unfurls made with `unfurl_id` + `source` (links still in a composer): by unfurl id. */
  readonly composerUnfurls = new Map<string, Record<string, unknown>>();
  private serial = 0;

  constructor(private readonly workspace: FakeSlackWorkspace) {}

  call(method: string, args: Args): ApiResult | undefined {
    switch (method) {
      case 'conversations.replies':
        return this.replies(args);
      case 'chat.unfurl':
        return this.unfurl(args);
      case 'views.publish':
        return this.publish(args);
      case 'users.conversations':
        return this.userConversations(args);
      default:
        return undefined;
    }
  }

  /**
   * A thread, oldest first: its parent, then its replies (`ts` may name either). `oldest`/`latest`
   * bound the replies; whether Slack also drops the parent when it is older than `oldest` is not
   * documented, so the fake always keeps it (the bot must filter by time itself either way).
   */
  private replies(args: Args): ApiResult {
    const problem = this.workspace.channelProblem(args.channel);
    if (problem) return problem;
    const list = this.workspace.list(args.channel).filter((m) => !m.ephemeralFor);
    const hit = list.find((m) => m.ts === args.ts);
    if (!hit) return fail('thread_not_found');
    const rootTs = hit.thread_ts ?? hit.ts;
    const root = list.find((m) => m.ts === rootTs);
    if (!root) return fail('thread_not_found');
    const inclusive = args.inclusive === true || args.inclusive === 'true' || args.inclusive === '1';
    const after = (ts: string, bound: unknown) =>
      bound === undefined || (inclusive ? Number(ts) >= Number(bound) : Number(ts) > Number(bound));
    const before = (ts: string, bound: unknown) =>
      bound === undefined || (inclusive ? Number(ts) <= Number(bound) : Number(ts) < Number(bound));
    const replies = list.filter(
      (m) => m.thread_ts === rootTs && m.ts !== rootTs && after(m.ts, args.oldest) && before(m.ts, args.latest),
    );
    const all = [root, ...replies];
    const page = this.page(all, args);
    if ('ok' in page) return page;
    return {
      ok: true,
      messages: page.items.map((m) => this.wire(m, m === root ? replies.length : undefined)),
      has_more: Boolean(page.next),
      response_metadata: { next_cursor: page.next ?? '' },
    };
  }

  /**
   * Attaches cards to links a person posted: to the message `channel` + `ts` (each URL must be in
   * its text), or with `unfurl_id` + `source` to a link still in the composer. Every unfurl's
   * blocks pass Block Kit's limits. Which error Slack gives for blocks it refuses inside an unfurl is
   * not documented; the fake answers `invalid_unfurls_format` with the problems.
   */
  private unfurl(args: Args): ApiResult {
    const unfurls = args.unfurls;
    if (unfurls === undefined) return fail('missing_unfurls');
    if (typeof unfurls !== 'object' || unfurls === null || Array.isArray(unfurls) || Object.keys(unfurls).length === 0)
      return fail('invalid_unfurls_format');
    for (const [url, unfurl] of Object.entries(unfurls as Record<string, any>)) {
      const errors = Array.isArray(unfurl?.blocks) ? blockKitProblems(unfurl.blocks) : ['blocks must be an array'];
      if (errors.length > 0) return fail('invalid_unfurls_format', { url, errors });
    }
    if (args.unfurl_id !== undefined || args.source !== undefined) {
      if (!args.unfurl_id) return fail('missing_unfurl_id');
      if (!args.source) return fail('missing_source');
      if (!['composer', 'conversations_history'].includes(args.source)) return fail('invalid_source');
      this.composerUnfurls.set(String(args.unfurl_id), {
        ...(this.composerUnfurls.get(args.unfurl_id) ?? {}),
        ...unfurls,
      });
      return { ok: true };
    }
    if (!args.channel) return fail('missing_channel');
    if (!args.ts) return fail('missing_ts');
    if (this.workspace.channelProblem(args.channel)) return fail('cannot_find_channel');
    const message = this.workspace.list(args.channel).find((m) => m.ts === args.ts && !m.ephemeralFor);
    if (!message) return fail('cannot_find_message');
    // Slack shows links in message text as <url> or <url|label>.
    for (const url of Object.keys(unfurls)) if (!message.text.includes(url)) return fail('cannot_unfurl_url', { url });
    message.unfurls = { ...(message.unfurls ?? {}), ...unfurls };
    return { ok: true };
  }

  /** Publishes a user's App Home: a `home` view, 100 blocks at most, checked like a message's. */
  private publish(args: Args): ApiResult {
    if (typeof args.user_id !== 'string' || !args.user_id) return fail('invalid_arguments');
    const view = args.view;
    if (typeof view !== 'object' || view === null || view.type !== 'home') return fail('invalid_arguments');
    if (!Array.isArray(view.blocks)) return fail('invalid_arguments');
    const errors = blockKitProblems(view.blocks, VIEW_BLOCKS);
    if (typeof view.private_metadata === 'string' && view.private_metadata.length > PRIVATE_METADATA)
      errors.push(`must be less than ${PRIVATE_METADATA + 1} characters [json-pointer:/view/private_metadata]`);
    if (errors.length > 0) return fail('invalid_arguments', { response_metadata: { messages: errors } });
    const current = this.views.get(args.user_id);
    if (args.hash !== undefined && current && args.hash !== current.hash) return fail('hash_conflict');
    const stored: FakeSlackView = {
      id: current?.id ?? `V0${(++this.serial).toString(36).toUpperCase().padStart(9, '0')}`,
      hash: `${Date.now()}.${++this.serial}`,
      view: structuredClone(view),
    };
    this.views.set(args.user_id, stored);
    return {
      ok: true,
      view: { id: stored.id, team_id: this.workspace.identity.teamId, hash: stored.hash, ...stored.view },
    };
  }

  /**
   * The channels `user` is in (default: the bot's own), of `types` (default `public_channel`);
   * private ones only where the bot is a member too, as Slack restricts a bot token.
   */
  private userConversations(args: Args): ApiResult {
    const who = typeof args.user === 'string' && args.user ? args.user : this.workspace.identity.botUserId;
    if (!this.workspace.user(who)) return fail('user_not_found');
    const types = String(args.types ?? 'public_channel').split(',');
    if (types.some((t) => !['public_channel', 'private_channel', 'mpim', 'im'].includes(t)))
      return fail('invalid_types');
    const channels = (this.workspace.knownChannels() ?? []).filter((c) => {
      const botIn = c.is_member !== false;
      const isIn = who === this.workspace.identity.botUserId ? botIn : (c.members ?? []).includes(who);
      const type = c.is_private ? 'private_channel' : 'public_channel';
      return isIn && types.includes(type) && (!c.is_private || botIn);
    });
    const page = this.page(channels, { ...args, limit: args.limit ?? 100 });
    if ('ok' in page) return page;
    return {
      ok: true,
      channels: page.items.map((c) => ({
        id: c.id,
        name: c.name,
        is_channel: !c.is_private,
        is_group: Boolean(c.is_private),
        is_private: Boolean(c.is_private),
        is_archived: false,
        is_member: c.is_member !== false,
        context_team_id: this.workspace.identity.teamId,
      })),
      response_metadata: { next_cursor: page.next ?? '' },
    };
  }

  /** Cursor paging: `limit` items from the `cursor` (an offset, base64, as opaque as Slack's). */
  private page<T>(all: T[], args: Args): { items: T[]; next?: string } | ApiResult {
    const limit = args.limit === undefined ? 1000 : Number(args.limit);
    if (!Number.isInteger(limit) || limit < 1) return fail('invalid_limit');
    let offset = 0;
    if (args.cursor) {
      const m = /^offset:(\d+)$/.exec(Buffer.from(String(args.cursor), 'base64').toString('utf8'));
      if (!m) return fail('invalid_cursor');
      offset = Number(m[1]);
    }
    const items = all.slice(offset, offset + Math.min(limit, 1000));
    const end = offset + items.length;
    return { items, ...(end < all.length ? { next: Buffer.from(`offset:${end}`).toString('base64') } : {}) };
  }

  /** A message as conversations.replies returns it. */
  private wire(m: FakeSlackMessage, replyCount: number | undefined): Record<string, unknown> {
    const fromBot = m.user === this.workspace.identity.botUserId;
    return {
      type: 'message',
      user: m.user,
      text: m.text,
      ts: m.ts,
      ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}),
      ...(replyCount !== undefined && replyCount > 0 ? { thread_ts: m.ts, reply_count: replyCount } : {}),
      ...(fromBot ? { bot_id: this.workspace.identity.botId, app_id: this.workspace.identity.appId } : {}),
      ...(m.bot_id ? { bot_id: m.bot_id } : {}),
      ...(m.subtype ? { subtype: m.subtype } : {}),
      ...(m.files ? { files: m.files.map((id) => ({ id })) } : {}),
      ...(m.blocks.length > 0 ? { blocks: m.blocks } : {}),
    };
  }
}
