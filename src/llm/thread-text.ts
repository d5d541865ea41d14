import type { ThreadMessage } from '../core/ports/index.ts';

// How the messages of a chat thread read to Claude: each marked with its author, in tags that a
// message's own text cannot close or forge (its `<`, `>` and `&` are escaped), so "Ana:" written
// inside Bob's message stays Bob's words.

const escape = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
const attr = (text: string) => escape(text).replaceAll('"', '&quot;');

/** The thread as tagged messages, oldest first. */
export function threadBlock(thread: ThreadMessage[]): string {
  const messages = thread.map((m) => `<message author="${attr(m.author)}">\n${escape(m.text)}\n</message>`);
  return `<thread>\n${messages.join('\n')}\n</thread>`;
}

/** A create from a discussion: the thread is the request; `prompt`, when given, is what was asked with it. */
export function discussionRequest(thread: ThreadMessage[], prompt: string): string {
  return `Build an app from this chat discussion. These are the thread's messages, oldest first, each marked with who wrote it; the app should do what the people in it asked for and agreed on (later messages win where they disagree).

${threadBlock(thread)}

${prompt ? `The request that came with it: ${prompt}` : 'Nobody added a request: build what the discussion describes.'}`;
}

/** The earlier messages that go before a change request in the same thread. */
export function earlierMessages(thread: ThreadMessage[]): string {
  return `Earlier messages in this app's chat thread since its last version, oldest first, each marked with who wrote it. They are context: the change request below may refer to them (for example "like Ana said above").

${threadBlock(thread)}`;
}
