import type { Attachment } from 'discord.js';
import type { ImageAttachment } from '../../src/core/ports/images.ts';
import { downloadCapped } from '../download.ts';

/** Where Discord serves attachments; the REST base's origin is added for emulators and tests. */
const DISCORD_CDN = ['https://cdn.discordapp.com', 'https://media.discordapp.net'];

/** The content without the bot's own mention(s) (`<@id>` or `<@!id>`). */
export function withoutMention(content: string, botId: string): string {
  return content
    .replace(new RegExp(`<@!?${botId}>`, 'g'), '')
    .replace(/[ \t]{2,}/g, ' ')
    .trim();
}

/**
 * Files attached to a message or a slash command's `image` option, as the core's picture
 * attachments (the core checks which are pictures, by their bytes): their declared size first,
 * their bytes fetched from Discord's CDN only when the core asks. Undefined when there are none.
 */
export function discordAttachments(
  files: Iterable<Attachment> | undefined,
  apiUrl: string | undefined,
): ImageAttachment[] | undefined {
  const list = [...(files ?? [])];
  if (list.length === 0) return undefined;
  const allowed = [...DISCORD_CDN, ...(apiUrl ? [new URL(apiUrl).origin] : [])];
  return list.map((a) => ({
    name: a.name,
    size: a.size,
    fetch: (maxBytes) =>
      downloadCapped(a.url, {
        allowed,
        maxBytes,
        htmlMessage: `Discord sent a web page instead of "${a.name}". Please attach it again.`,
      }),
  }));
}
