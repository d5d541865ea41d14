import type { RespondFn, webApi } from '@slack/bolt';
import { UserError } from '../../src/core/errors.ts';
import type { Card, Conversation, MessageRef } from '../../src/core/ports.ts';
import { renderSlackMessage } from './render-blocks.ts';
import { channelKey, messageKey, parseMessageKey } from './slack-ids.ts';

export interface SlackEventPlace {
  client: webApi.WebClient;
  team: string;
  channel: string;
  /** Who caused the event: ephemeral messages go to them. */
  user: string;
  /** Set when the event happened in a thread (its root ts). */
  threadTs?: string;
  /** The ephemeral message a button was pressed on: it is replaced through its response_url. */
  ephemeralSource?: { ref: MessageRef; respond: RespondFn };
  /** e.g. https://team.slack.com/ (from auth.test), for thread links. */
  workspaceUrl?: string;
  /** A slash command's response_url: private answers work there even where the bot is not a member. */
  respond?: RespondFn;
}

/** The core's Conversation for one Slack event: Web API calls with Block Kit bodies. */
export class SlackConversation implements Conversation {
  constructor(private readonly place: SlackEventPlace) {}

  async post(card: Card): Promise<MessageRef> {
    const { client, team, channel } = this.place;
    try {
      const res = await client.chat.postMessage({
        channel,
        ...renderSlackMessage(card),
        unfurl_links: false,
        unfurl_media: false,
      });
      return { id: messageKey(team, channel, res.ts!), channelId: channelKey(team, channel) };
    } catch (err) {
      const code = (err as { data?: { error?: string } }).data?.error;
      // The bot must be a member to post, and to hear the thread replies that refine an app.
      if (code === 'not_in_channel' || code === 'channel_not_found')
        throw new UserError('I am not in this channel yet. Invite me with `/invite @vibe-bot`, then try again.');
      throw err;
    }
  }

  async update(ref: MessageRef, card: Card): Promise<void> {
    const source = this.place.ephemeralSource;
    if (source && source.ref.id === ref.id) {
      await source.respond({ replace_original: true, ...renderSlackMessage(card, { mentions: true }) });
      return;
    }
    const { channel, ts } = parseMessageKey(ref.id);
    await this.place.client.chat.update({ channel, ts, ...renderSlackMessage(card) });
  }

  async reply(threadId: string, card: Card): Promise<MessageRef> {
    const { team, channel, ts } = parseMessageKey(threadId);
    const res = await this.place.client.chat.postMessage({
      channel,
      thread_ts: ts,
      ...renderSlackMessage(card),
      unfurl_links: false,
      unfurl_media: false,
    });
    return { id: messageKey(team, channel, res.ts!), channelId: channelKey(team, channel), threadId };
  }

  /** A Slack thread is any message's replies: the root's id is the thread's id. */
  async startThread(ref: MessageRef): Promise<string> {
    return ref.id;
  }

  async ephemeral(card: Card): Promise<void> {
    const { client, channel, user, threadTs, respond } = this.place;
    if (respond) {
      await respond({ response_type: 'ephemeral', ...renderSlackMessage(card, { mentions: true }) });
      return;
    }
    await client.chat.postEphemeral({
      channel,
      user,
      ...(threadTs ? { thread_ts: threadTs } : {}),
      ...renderSlackMessage(card, { mentions: true }),
    });
  }

  threadLink(threadId: string): string | undefined {
    if (!this.place.workspaceUrl) return undefined;
    const { channel, ts } = parseMessageKey(threadId);
    return `${this.place.workspaceUrl.replace(/\/?$/, '/')}archives/${channel}/p${ts.replace('.', '')}`;
  }
}
