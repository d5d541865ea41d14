import { Routes } from 'discord.js';
import type { Card } from '../../src/core/ports/index.ts';
import { DiscordConversation, restRequest, type DiscordPlace } from './discord-conversation.ts';
import type { DiscordMessageBody } from './render-discord.ts';

/** Links in a message's text that Discord would embed: http(s) URLs, except those written `<url>` (no embed wanted). */
export function embeddableLinks(content: string): string[] {
  const links: string[] = [];
  for (const m of content.matchAll(/(<)?(https?:\/\/[^\s<>]+)(>)?/gi)) {
    if (m[1] && m[3]) continue; // <https://…>: the writer suppressed this link's embed
    links.push(m[2]!.replace(/[.,;:!?)\]]+$/, '')); // trailing punctuation is the sentence's, not the link's
  }
  return links;
}

/**
 * The Conversation of a message that carried app links: each card is a reply to it (an embed with
 * the screenshot attached, and the card's buttons), pinging nobody, the author included.
 */
export class DiscordLinkConversation extends DiscordConversation {
  constructor(
    place: DiscordPlace,
    private readonly replyTo: string,
  ) {
    super(place);
  }

  async unfurl(links: { url: string; card: Card }[]): Promise<void> {
    for (const { card } of links) {
      await this.send(card, (body, files) => {
        const reply: DiscordMessageBody & Record<string, unknown> = {
          ...body,
          allowed_mentions: { parse: [], replied_user: false } as DiscordMessageBody['allowed_mentions'],
          message_reference: { message_id: this.replyTo, fail_if_not_exists: false },
        };
        return this.place.rest.post(Routes.channelMessages(this.place.channel), restRequest(reply, files, 'create'));
      });
    }
  }
}
