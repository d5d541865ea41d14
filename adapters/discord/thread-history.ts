import { MessageType, Routes, type APIMessage, type REST } from 'discord.js';
import type { ChatMessage } from '../../src/core/ports/index.ts';
import { messageKey, parseKey, userKey } from './discord-ids.ts';

/** The newest messages of a thread read (one request: Discord's page limit). */
const PAGE = 100;
/** A person's words: plain messages and replies (not joins, pins, the platform's own notes). */
const SPOKEN = new Set<number>([MessageType.Default, MessageType.Reply]);

/**
 * A thread's newest messages, oldest first (`GET /channels/{thread}/messages`, Read Message
 * History), each with its author's name. A thread started from a message begins with that
 * message, which lives in the parent channel under the thread's own id: with `parent` known and no
 * `since` (the whole discussion is wanted) it is read too. Bots' (this one's included), webhooks'
 * and the platform's messages are marked `fromBot`.
 */
export async function readDiscordThread(
  rest: REST,
  threadId: string,
  parent: string | undefined,
  since?: number,
): Promise<ChatMessage[]> {
  const { guild, channel } = parseKey(threadId);
  const newest = (await rest.get(Routes.channelMessages(channel), {
    query: new URLSearchParams({ limit: String(PAGE) }),
  })) as APIMessage[];
  const messages = [...newest].reverse();
  if (parent && !since) {
    const starter = await rest
      .get(Routes.channelMessage(parent, channel))
      .then((m) => m as APIMessage)
      .catch(() => undefined); // not started from a message (or it was deleted): nothing before the thread
    if (starter) messages.unshift(starter);
  }
  return messages.map((m) => ({
    id: messageKey(guild, m.channel_id, m.id),
    authorId: userKey(guild, m.author.id),
    authorName: m.author.global_name ?? m.author.username,
    text: m.content,
    at: Date.parse(m.timestamp),
    fromBot: Boolean(m.author.bot || m.webhook_id) || !SPOKEN.has(m.type),
  }));
}
