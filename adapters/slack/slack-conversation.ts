import type { RespondFn, webApi } from '@slack/bolt';
import { UserError } from '../../src/core/errors.ts';
import type { Card, ChatMessage, Conversation, Logger, MessageRef } from '../../src/core/ports/index.ts';
import type { ProgressStream } from '../../src/core/chat/progress-stream.ts';
import { renderSlackMessage } from './render-blocks.ts';
import { channelKey, messageKey, parseMessageKey } from './slack-ids.ts';
import { SlackProgressStream } from './slack-streamer.ts';
import { clip } from './slack-text.ts';
import type { SlackPeople } from './slack-people.ts';
import { readSlackThread } from './thread-history.ts';

/**
 * How long a message waits for each of its uploads (screenshot, file). The SDK retries a failing
 * upload URL for up to half an hour; past this the upload goes on in the background and the
 * message moves on.
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
  /** Where a screenshot or file that could not be delivered is reported. */
  logger: Pick<Logger, 'warn' | 'debug'>;
  /** Names the authors of a thread's messages (`history`); without it they go by id. */
  people?: SlackPeople;
}

/** One upload into a thread: a card's screenshot or its file. */
interface SlackUpload {
  /** For the log lines: "screenshot", "file". */
  what: string;
  bytes: Uint8Array;
  filename: string;
  title: string;
  alt_text?: string;
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
    await this.uploadAll(card, channel, ts);
    return { id: messageKey(team, channel, ts), channelId: channelKey(team, channel) };
  }

  async update(ref: MessageRef, card: Card): Promise<void> {
    const source = this.place.ephemeralSource;
    if (source && source.ref.id === ref.id) {
      await source.respond({ replace_original: true, ...renderSlackMessage(card, { mentions: true }) });
      this.dropFile(card);
      return;
    }
    const { channel, ts } = parseMessageKey(ref.id);
    await this.place.client.chat.update({ channel, ts, ...renderSlackMessage(card) });
    // A reply's picture and file go into its thread; a thread's root (or a lone message) starts its own.
    await this.uploadAll(card, channel, ref.threadId ? parseMessageKey(ref.threadId).ts : ts);
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
    await this.uploadAll(card, channel, ts);
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
    } else {
      await client.chat.postEphemeral({
        channel,
        user,
        ...(threadTs ? { thread_ts: threadTs } : {}),
        ...renderSlackMessage(card, { mentions: true }),
      });
    }
    this.dropFile(card);
  }

  /**
   * Slack cannot attach a file to an ephemeral message (an upload is shared with the whole
   * channel or thread): a private card's file is logged and dropped. (Its screenshot too, silently:
   * the picture is decoration, the file is what was asked for.)
   */
  private dropFile(card: Card): void {
    if (!card.file) return;
    this.place.logger.warn(
      { channel: this.place.channel, filename: card.file.name },
      'slack: a private message cannot carry a file; it is dropped',
    );
  }

  /** The card's screenshot, then its file, each into the thread `threadTs` (see `upload`). */
  private async uploadAll(card: Card, channel: string, threadTs: string): Promise<void> {
    const { image, file } = card;
    if (image?.png)
      await this.upload(
        {
          what: 'screenshot',
          bytes: image.png,
          filename: 'screenshot.png',
          title: clip(card.title ? `${card.title}: screenshot` : 'Screenshot', 250),
          alt_text: clip(image.alt, 1000),
        },
        channel,
        threadTs,
      );
    if (file)
      await this.upload(
        { what: 'file', bytes: file.bytes, filename: file.name, title: clip(file.name, 250) },
        channel,
        threadTs,
      );
  }

  /**
   * Uploads one file into the thread `threadTs` of `channel` with `files.uploadV2` (Block Kit can
   * only show public image URLs, and carries no files). Never throws: a failed upload is logged and
   * the message stands without it; past UPLOAD_WAIT_MS it goes on in the background.
   */
  private async upload(item: SlackUpload, channel: string, threadTs: string): Promise<void> {
    const { client, logger } = this.place;
    const { what, bytes, filename, title, alt_text } = item;
    const upload = client.files
      .uploadV2({
        channel_id: channel,
        thread_ts: threadTs,
        file: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        filename,
        title,
        ...(alt_text !== undefined ? { alt_text } : {}),
      })
      .then(
        () => 'done' as const,
        (err: unknown) => {
          const code = (err as { data?: { error?: string } }).data?.error;
          logger.warn(
            { err, code, channel, threadTs, filename },
            `slack: ${what} upload failed; the message stands without it`,
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
      logger.warn({ channel, threadTs, filename }, `slack: ${what} upload is slow; it goes on in the background`);
    clearTimeout(timer);
  }

  /** The thread's messages (conversations.replies), for a request that carries them. */
  history(threadId: string, since?: number): Promise<ChatMessage[]> {
    return readSlackThread(this.place.client, this.place.people, threadId, since);
  }

  /** A build's progress streamed into the thread, to the person who asked (none outside an event). */
  stream(threadId: string, onRefused: (err: unknown) => void): ProgressStream | undefined {
    const { client, team, user, logger } = this.place;
    if (!user) return undefined;
    const { channel, ts } = parseMessageKey(threadId);
    return new SlackProgressStream({ client, team, channel, threadTs: ts, user, logger }, onRefused);
  }

  threadLink(threadId: string): string | undefined {
    if (!this.place.workspaceUrl) return undefined;
    const { channel, ts } = parseMessageKey(threadId);
    return `${this.place.workspaceUrl.replace(/\/?$/, '/')}archives/${channel}/p${ts.replace('.', '')}`;
  }
}
