import {
  MessageFlags,
  Routes,
  type APIMessage,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type REST,
} from 'discord.js';
import type { Card, Conversation, MessageRef } from '../../src/core/ports.ts';
import { channelKey, messageKey, parseKey } from './discord-ids.ts';
import { renderDiscordMessage } from './render-discord.ts';

/** Interaction tokens live 15 minutes; past this age the bot edits its own message instead. */
export const INTERACTION_TOKEN_MS = 14 * 60_000;
const INVALID_WEBHOOK_TOKEN = 50027;

export interface DiscordPlace {
  rest: REST;
  guild: string;
  /** Where the event happened: a text channel or a thread. */
  channel: string;
  /** The slash command or button behind this event, already deferred. */
  interaction?: {
    it: ChatInputCommandInteraction | ButtonInteraction;
    /** How it was deferred: a reply to fill (public or private), or an update of the button's message. */
    deferred: 'public' | 'ephemeral' | 'update';
    /** For 'update': the message the button is on. */
    source?: MessageRef;
  };
  now?: () => number;
}

/** The core's Conversation for one Discord event: interaction responses and REST calls. */
export class DiscordConversation implements Conversation {
  private original?: MessageRef; // the interaction's reply, once filled
  private originalUsed = false;

  constructor(private readonly place: DiscordPlace) {}

  async post(card: Card): Promise<MessageRef> {
    const { interaction, guild, channel } = this.place;
    if (interaction?.deferred === 'public' && !this.originalUsed) {
      this.originalUsed = true;
      const msg = await interaction.it.editReply(renderDiscordMessage(card));
      this.original = { id: messageKey(guild, channel, msg.id), channelId: channelKey(guild, channel) };
      return this.original;
    }
    const msg = (await this.place.rest.post(Routes.channelMessages(channel), {
      body: renderDiscordMessage(card),
    })) as APIMessage;
    return { id: messageKey(guild, channel, msg.id), channelId: channelKey(guild, channel) };
  }

  async update(ref: MessageRef, card: Card): Promise<void> {
    const { interaction } = this.place;
    const isOriginal =
      ref.id === this.original?.id || (interaction?.deferred === 'update' && ref.id === interaction.source?.id);
    if (interaction && isOriginal && this.tokenFresh()) {
      try {
        await interaction.it.editReply(renderDiscordMessage(card));
        return;
      } catch (err) {
        if ((err as { code?: number }).code !== INVALID_WEBHOOK_TOKEN) throw err;
      }
    }
    // The interaction token expired (15 minutes): edit the bot's own message directly.
    const { channel, message } = parseKey(ref.id);
    await this.place.rest.patch(Routes.channelMessage(channel, message!), { body: renderDiscordMessage(card) });
  }

  async reply(threadId: string, card: Card): Promise<MessageRef> {
    const { guild, channel } = parseKey(threadId);
    const msg = (await this.place.rest.post(Routes.channelMessages(channel), {
      body: renderDiscordMessage(card),
    })) as APIMessage;
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
    const body = renderDiscordMessage(card);
    if (interaction?.deferred === 'ephemeral' && !this.originalUsed) {
      this.originalUsed = true;
      await interaction.it.editReply(body);
      return;
    }
    if (interaction && this.tokenFresh()) {
      await interaction.it.followUp({ ...body, flags: MessageFlags.Ephemeral });
      return;
    }
    await this.place.rest.post(Routes.channelMessages(this.place.channel), { body });
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

  private tokenFresh(): boolean {
    const it = this.place.interaction?.it;
    return Boolean(it) && (this.place.now ?? Date.now)() - it!.createdTimestamp < INTERACTION_TOKEN_MS;
  }
}
