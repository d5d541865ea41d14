import type { ChatMessage, Conversation, Logger, ThreadMessage } from '../ports/index.ts';

// The thread is the spec: what people said in a thread goes with the request the bot makes of
// the model, so "like Ana said above" works and a discussion can become an app. Bounded, and only
// people's words: other bots' messages and the bot's own are left out.

/** At most this many messages go with a request: the newest ones. */
export const THREAD_MAX_MESSAGES = 20;
/** …and at most this many characters (authors and text), the oldest messages dropped first. */
export const THREAD_MAX_CHARS = 8000;

export interface ThreadWindow {
  /** Only messages posted after this (epoch ms): the last version's time, for a refinement. */
  since?: number;
  /** The message the request came in (its id): it and anything after it are left out. */
  before?: string;
}

/**
 * The human messages of a thread a request carries, oldest first: after `since` and before
 * `before`, no bots, no `/vibe` commands, no empty text; the newest THREAD_MAX_MESSAGES, then the
 * oldest dropped until they fit THREAD_MAX_CHARS (a single message longer than that is cut).
 * Takes the messages as the platform gave them (`Conversation.history`), so anything that has a
 * thread's messages (a mention, a command) can use it.
 */
export function threadSpec(messages: ChatMessage[], window: ThreadWindow = {}): ThreadMessage[] {
  const cut = window.before ? messages.findIndex((m) => m.id === window.before) : -1;
  const earlier = cut >= 0 ? messages.slice(0, cut) : messages;
  const spoken = earlier
    .filter((m) => !m.fromBot && m.text.trim() !== '' && !/^\/vibe(\s|$)/.test(m.text.trim()))
    .filter((m) => window.since === undefined || m.at > window.since)
    .map((m) => ({ author: m.authorName?.trim() || m.authorId, text: m.text.trim() }))
    .slice(-THREAD_MAX_MESSAGES);
  const kept: ThreadMessage[] = [];
  let chars = 0;
  for (const m of spoken.reverse()) {
    const size = m.author.length + m.text.length;
    if (chars + size <= THREAD_MAX_CHARS) {
      kept.unshift(m);
      chars += size;
      continue;
    }
    // The newest message alone is over the bound: its beginning goes, cut to fit.
    if (kept.length === 0) kept.unshift({ ...m, text: `${m.text.slice(0, THREAD_MAX_CHARS - m.author.length - 1)}…` });
    break;
  }
  return kept;
}

/**
 * The thread's messages through the Conversation, bounded by `threadSpec`. A platform that cannot
 * read threads gives none; a failed read is logged and gives none (the request goes on without).
 */
export async function readThread(
  conv: Conversation,
  threadId: string,
  window: ThreadWindow,
  logger: Pick<Logger, 'warn'>,
): Promise<ThreadMessage[]> {
  if (!conv.history) return [];
  try {
    return threadSpec(await conv.history(threadId, window.since), window);
  } catch (err) {
    logger.warn({ err, threadId }, 'the thread could not be read; the request goes without it');
    return [];
  }
}
