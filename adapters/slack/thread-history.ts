import type { webApi } from '@slack/bolt';
import type { ChatMessage } from '../../src/core/ports/index.ts';
import { messageKey, parseMessageKey, userKey } from './slack-ids.ts';
import type { SlackPeople } from './slack-people.ts';

/** Pages of a thread read at most (200 messages each): a longer thread is read from `since` anyway. */
const MAX_PAGES = 5;
/** Message subtypes that are a person's words (others: joins, topic changes, the platform's notes). */
const SPOKEN = new Set([undefined, 'thread_broadcast', 'file_share', 'me_message']);

interface SlackThreadMessage {
  ts?: string;
  user?: string;
  text?: string;
  bot_id?: string;
  subtype?: string;
}

/**
 * A thread's messages, oldest first (`conversations.replies`, scope `channels:history` /
 * `groups:history`), each with its author's display name; `since` (epoch ms) is passed as `oldest`.
 * Messages of bots (this one included) and the platform's own are marked `fromBot`.
 */
export async function readSlackThread(
  client: webApi.WebClient,
  people: SlackPeople | undefined,
  threadId: string,
  since?: number,
): Promise<ChatMessage[]> {
  const { team, channel, ts } = parseMessageKey(threadId);
  const raw: SlackThreadMessage[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const res = await client.conversations.replies({
      channel,
      ts,
      limit: 200,
      ...(since ? { oldest: (since / 1000).toFixed(6) } : {}),
      ...(cursor ? { cursor } : {}),
    });
    raw.push(...((res.messages ?? []) as SlackThreadMessage[]));
    cursor = res.response_metadata?.next_cursor || undefined;
    if (!cursor) break;
  }
  const out: ChatMessage[] = [];
  for (const m of raw) {
    if (!m.ts) continue;
    const fromBot = Boolean(m.bot_id) || !m.user || !SPOKEN.has(m.subtype);
    const name = !fromBot && people ? (await people.actor(team, m.user!)).name : undefined;
    out.push({
      id: messageKey(team, channel, m.ts),
      authorId: m.user ? userKey(team, m.user) : '',
      ...(name ? { authorName: name } : {}),
      text: unescapeSlack(m.text ?? ''),
      at: Math.round(Number(m.ts) * 1000),
      fromBot,
    });
  }
  return out;
}

/** Slack escapes `&`, `<` and `>` in message text; the model reads them as written. */
function unescapeSlack(text: string): string {
  return text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}
