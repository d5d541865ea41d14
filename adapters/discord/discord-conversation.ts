import {
  MessageFlags,
  Routes,
  type APIMessage,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type REST,
  type RequestData,
} from 'discord.js';
import type { Card, ChatMessage, Conversation, Logger, MessageRef } from '../../src/core/ports/index.ts';
import { channelKey, messageKey, parseKey } from './discord-ids.ts';
import { discordUploads, renderDiscordMessage, type DiscordMessageBody, type DiscordUpload } from './render-discord.ts';
import { readDiscordThread } from './thread-history.ts';

/** Interaction tokens live 15 minutes; past this age the bot edits its own message instead. */
export const INTERACTION_TOKEN_MS = 14 * 60_000;
const INVALID_WEBHOOK_TOKEN = 50027;

export interface DiscordPlace {
  rest: REST;
  guild: string;
  /** Where the event happened: a text channel or a thread. */
  channel: string;
  /** A thread's parent channel, when the event happened in a thread (its starter message lives there). */
  parent?: string;
  /** The slash command or button behind this event, already deferred. */
  interaction?: {
    it: ChatInputCommandInteraction | ButtonInteraction;
    /** How it was deferred: a reply to fill (public or private), or an update of the button's message. */
    deferred: 'public' | 'ephemeral' | 'update';
    /** For 'update': the message the button is on. */
    source?: MessageRef;
  };
  now?: () => number;
  /** Where a screenshot or file that could not be delivered is reported. */
  logger: Pick<Logger, 'warn'>;
}

type Deliver<T> = (body: DiscordMessageBody, files: DiscordUpload[]) => Promise<T>;

/** The core's Conversation for one Discord event: interaction responses and REST calls. */
export class DiscordConversation implements Conversation {
  private original?: MessageRef; // the interaction's reply, once filled
  private originalUsed = false;

  constructor(protected readonly place: DiscordPlace) {}

  async post(card: Card): Promise<MessageRef> {
    const { interaction, guild, channel } = this.place;
    if (interaction?.deferred === 'public' && !this.originalUsed) {
      this.originalUsed = true;
      const msg = await this.send(card, (body, files) => interaction.it.editReply(asEdit(body, files)));
      this.original = { id: messageKey(guild, channel, msg.id), channelId: channelKey(guild, channel) };
      return this.original;
    }
    const msg = (await this.send(card, (body, files) =>
      this.place.rest.post(Routes.channelMessages(channel), restRequest(body, files, 'create')),
    )) as APIMessage;
    return { id: messageKey(guild, channel, msg.id), channelId: channelKey(guild, channel) };
  }

  async update(ref: MessageRef, card: Card): Promise<void> {
    const { interaction } = this.place;
    const isOriginal =
      ref.id === this.original?.id || (interaction?.deferred === 'update' && ref.id === interaction.source?.id);
    if (interaction && isOriginal && this.tokenFresh()) {
      try {
        await this.send(card, (body, files) => interaction.it.editReply(asEdit(body, files)));
        return;
      } catch (err) {
        if ((err as { code?: number }).code !== INVALID_WEBHOOK_TOKEN) throw err;
      }
    }
    // The interaction token expired (15 minutes): edit the bot's own message directly.
    const { channel, message } = parseKey(ref.id);
    await this.send(card, (body, files) =>
      this.place.rest.patch(Routes.channelMessage(channel, message!), restRequest(body, files, 'edit')),
    );
  }

  async reply(threadId: string, card: Card): Promise<MessageRef> {
    const { guild, channel } = parseKey(threadId);
    const msg = (await this.send(card, (body, files) =>
      this.place.rest.post(Routes.channelMessages(channel), restRequest(body, files, 'create')),
    )) as APIMessage;
    return { id: messageKey(guild, channel, msg.id), channelId: channelKey(guild, channel), threadId };
  }

  /** A public thread started from the message; its id is the thread channel's id. */
  async startThread(ref: MessageRef, name: string): Promise<string> {
    const { guild, channel, message } = parseKey(ref.id);
    const thread = (await this.place.rest.post(Routes.threads(channel, message!), {
      body: { name: name.slice(0, 100) || 'vibe app', auto_archive_duration: 10080 },
    })) as { id: string };
    return channelKey(guild, thread.id);
  }

  /** Private to the asker where Discord allows it (interactions); in a plain thread message, a normal reply. */
  async ephemeral(card: Card): Promise<void> {
    const { interaction } = this.place;
    if (interaction?.deferred === 'ephemeral' && !this.originalUsed) {
      this.originalUsed = true;
      await this.send(card, (body, files) => interaction.it.editReply(asEdit(body, files)));
      return;
    }
    if (interaction && this.tokenFresh()) {
      await this.send(card, (body, files) =>
        interaction.it.followUp({ ...body, ...jsFiles(files), flags: MessageFlags.Ephemeral }),
      );
      return;
    }
    await this.send(card, (body, files) =>
      this.place.rest.post(Routes.channelMessages(this.place.channel), restRequest(body, files, 'create')),
    );
  }

  /** The thread's newest messages (and its starter message), for a request that carries them. */
  history(threadId: string, since?: number): Promise<ChatMessage[]> {
    const parent = threadId === channelKey(this.place.guild, this.place.channel) ? this.place.parent : undefined;
    return readDiscordThread(this.place.rest, threadId, parent, since);
  }

  threadLink(threadId: string): string | undefined {
    const { guild, channel } = parseKey(threadId);
    return `https://discord.com/channels/${guild}/${channel}`;
  }

  /** Removes a deferred reply nothing filled, so no "is thinking…" lingers. */
  async finish(): Promise<void> {
    const { interaction } = this.place;
    if (!interaction || interaction.deferred === 'update' || this.originalUsed || !this.tokenFresh()) return;
    await interaction.it.deleteReply();
  }

  /**
   * Sends a card, its PNG and its file (`Card.file`) as files of the message when it has them. A
   * send with files that fails is logged and tried once more without them, so the text always
   * arrives. An expired interaction token is the caller's to handle (it edits through the channel
   * instead).
   */
  protected async send<T>(card: Card, deliver: Deliver<T>): Promise<T> {
    const files = discordUploads(card);
    if (files.length === 0) return deliver(renderDiscordMessage(card), []);
    try {
      return await deliver(renderDiscordMessage(card), files);
    } catch (err) {
      if ((err as { code?: number }).code === INVALID_WEBHOOK_TOKEN) throw err;
      const names = files.map((f) => f.name);
      const what = names.length > 1 ? 'the screenshot and the file' : card.file ? 'the file' : 'the screenshot';
      this.place.logger.warn(
        { err, files: names },
        `discord: sending ${what} failed; sending the message without ${names.length > 1 ? 'them' : 'it'}`,
      );
      const { file: _file, ...bare } = card;
      return deliver(
        renderDiscordMessage(card.image ? { ...bare, image: { ...card.image, png: undefined } } : bare),
        [],
      );
    }
  }

  private tokenFresh(): boolean {
    const it = this.place.interaction?.it;
    return Boolean(it) && (this.place.now ?? Date.now)() - it!.createdTimestamp < INTERACTION_TOKEN_MS;
  }
}

/** discord.js's own file option: it uploads `files[n]` and lists them in `attachments` as discord.js does. */
function jsFiles(files: DiscordUpload[]) {
  return files.length
    ? {
        files: files.map((f) => ({
          attachment: f.data,
          name: f.name,
          ...(f.description !== undefined ? { description: f.description } : {}),
        })),
      }
    : {};
}

/** An edit through discord.js: `attachments: []` drops the message's earlier files, `files` adds the new ones. */
function asEdit(body: DiscordMessageBody, files: DiscordUpload[]) {
  return { ...body, attachments: [], ...jsFiles(files) };
}

/**
 * A REST request in the shape discord.js sends: `payload_json` listing each upload as attachment
 * `n` (a picture's alt text as `description`) and the bytes as `files[n]`. An edit always sends
 * `attachments`, so the message keeps exactly the card's picture and file (or none).
 */
export function restRequest(body: DiscordMessageBody, files: DiscordUpload[], kind: 'create' | 'edit'): RequestData {
  const attachments = files.map((f, i) => ({
    id: String(i),
    ...(f.description !== undefined ? { description: f.description } : {}),
  }));
  return {
    body: { ...body, ...(files.length || kind === 'edit' ? { attachments } : {}) },
    ...(files.length ? { files: files.map((f) => ({ name: f.name, data: f.data, contentType: f.contentType })) } : {}),
  };
}
