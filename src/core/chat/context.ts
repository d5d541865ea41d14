import type { Actor, Conversation, MessageRef } from '../ports/index.ts';
import type { ImageAttachment } from '../ports/images.ts';

/** Everything the core knows about one incoming event. */
export interface ChatContext {
  conv: Conversation;
  actor: Actor;
  channelId: string;
  /** Set when the event happened inside a thread. */
  threadId?: string;
  /** The message whose button was pressed (for in-place updates such as gallery paging). */
  source?: MessageRef;
  /** How this platform's commands are typed, for help (default: `/vibe <text>` forms). */
  usage?: string[];
  /**
   * The platform's id of the incoming event (e.g. "slack:event:Ev1", "discord:message:123"),
   * where the platform may deliver it twice: the core handles each id once.
   */
  eventId?: string;
  /** The event's author is a bot (ourselves included): the core ignores it. */
  fromBot?: boolean;
  /** The message the event is (a thread reply, a shared link), as `ChatMessage.id`: a thread's history stops before it. */
  messageId?: string;
  /** Pictures attached to the message: checked and resized before anything else (core/build/images.ts), never stored. */
  images?: ImageAttachment[];
  /** The message named the bot (a mention): in a thread that is not an app's it gets a hint, not silence. */
  mentioned?: boolean;
}
