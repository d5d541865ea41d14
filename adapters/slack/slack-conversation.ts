import type { RespondFn, webApi } from '@slack/bolt';
import { UserError } from '../../src/core/errors.ts';
import type { Card, Conversation, Logger, MessageRef } from '../../src/core/ports.ts';
import { renderSlackMessage } from './render-blocks.ts';
import { channelKey, messageKey, parseMessageKey } from './slack-ids.ts';
import { clip } from './slack-text.ts';

/**
 * How long a message waits for its screenshot's upload. The SDK retries a failing upload URL for
 * up to half an hour; past this the upload goes on in the background and the message moves on.
 */
const UPLOAD_WAIT_MS = 20_000;

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
  /** Where a screenshot that could not be delivered is reported. */
  logger: Pick<Logger, 'warn'>;
}

/** The core's Conversation for one Slack event: Web API calls with Block Kit bodies. */
export class SlackConversation implements Conversation {
  constructor(private readonly place: SlackEventPlace) {}

  async post(card: Card): Promise<MessageRef> {
    const { client, team, channel } = this.place;
    let ts: string;
    try {
      const res = await client.chat.postMessage({
        channel,
        ...renderSlackMessage(card),
        unfurl_links: false,
        unfurl_media: false,
      });
      ts = res.ts!;
    } catch (err) {
      const code = (err as { data?: { error?: string } }).data?.error;
      // The bot must be a member to post, and to hear the thread replies that refine an app.
      if (code === 'not_in_channel' || code === 'channel_not_found')
        throw new UserError('I am not in this channel yet. Invite me with `/invite @vibe-bot`, then try again.');
      throw err;
    }
    await this.uploadImage(card, channel, ts);
    return { id: messageKey(team, channel, ts), channelId: channelKey(team, channel) };
  }

  async update(ref: MessageRef, card: Card): Promise<void> {
    const source = this.place.ephemeralSource;
    if (source && source.ref.id === ref.id) {
      await source.respond({ replace_original: true, ...renderSlackMessage(card, { mentions: true }) });
      return;
    }
    const { channel, ts } = parseMessageKey(ref.id);
    await this.place.client.chat.update({ channel, ts, ...renderSlackMessage(card) });
    // A reply's picture goes into its thread; a thread's root (or a lone message) starts its own.
    await this.uploadImage(card, channel, ref.threadId ? parseMessageKey(ref.threadId).ts : ts);
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
    await this.uploadImage(card, channel, ts);
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

  /**
   * Uploads the card's PNG into the thread `threadTs` of `channel` (Block Kit can only show public
   * image URLs). Never throws: a failed upload is logged and the message stands without it.
   * Ephemeral messages get none (a file cannot be shared privately there).
   */
  private async uploadImage(card: Card, channel: string, threadTs: string): Promise<void> {
    const image = card.image;
    if (!image?.png) return;
    const { client, logger } = this.place;
    const upload = client.files
      .uploadV2({
        channel_id: channel,
        thread_ts: threadTs,
        file: Buffer.from(image.png.buffer, image.png.byteOffset, image.png.byteLength),
        filename: 'screenshot.png',
        title: clip(card.title ? `${card.title}: screenshot` : 'Screenshot', 250),
        alt_text: clip(image.alt, 1000),
      })
      .then(
        () => 'done' as const,
        (err: unknown) => {
          const code = (err as { data?: { error?: string } }).data?.error;
          logger.warn(
            { err, code, channel, threadTs },
            'slack: screenshot upload failed; the message stands without it',
          );
          return 'done' as const;
        },
      );
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), UPLOAD_WAIT_MS);
      timer.unref();
    });
    if ((await Promise.race([upload, waited])) === 'late')
      logger.warn({ channel, threadTs }, 'slack: screenshot upload is slow; it goes on in the background');
    clearTimeout(timer);
  }

  threadLink(threadId: string): string | undefined {
    if (!this.place.workspaceUrl) return undefined;
    const { channel, ts } = parseMessageKey(threadId);
    return `${this.place.workspaceUrl.replace(/\/?$/, '/')}archives/${channel}/p${ts.replace('.', '')}`;
  }
}
