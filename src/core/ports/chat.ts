// The chat port: what the core says and hears through each adapter (adapters/).

import type { ProgressStream } from '../chat/progress-stream.ts';

/** What a button does (its value: an app id, a gallery cursor, or an app and version). */
export type ButtonAction =
  | 'undo'
  | 'versions'
  | 'delete'
  | 'delete-confirm'
  | 'restore'
  | 'gallery'
  | 'mine'
  /** Runs a refinement that fixes the error a viewer of the app hit (value: the app id). */
  | 'fix'
  /** Posts the app's source and build as a zip into its thread (value: the app id). */
  | 'export'
  /** Runs again a build that a bot restart interrupted (value: the id its interrupted card carries). */
  | 'retry'
  /** A new app of the presser's, from the app's latest version, in a new thread (value: the app id). */
  | 'remix'
  /** Pages Slack's App Home (value: both lists' positions, see core/chat/actions.ts). */
  | 'home'
  /** Asks to clear the app's shared data, then clears it (value: the app id). */
  | 'data-reset'
  | 'data-reset-confirm';

/** A neutral message; each adapter renders it for its platform and enforces its limits. */
export interface Card {
  title?: string;
  text?: string;
  /** `userId` marks a person: adapters may render a mention that does not notify, else `value`. */
  fields?: { label: string; value: string; userId?: string }[];
  /**
   * Links: rendered as link buttons where the platform has them. `kind` says what a link is, so
   * renderers never match on labels: the app (light view), the creator's live view, a thread.
   */
  links?: { label: string; url: string; kind?: 'app' | 'creator' | 'thread' }[];
  /**
   * Buttons that call back into the bot: `action` says what it does and `value` what it acts on
   * (built and read in core/chat/actions.ts). `confirm`: the platform asks first, where it can.
   */
  actions?: {
    label: string;
    action: ButtonAction;
    value: string;
    style?: 'primary' | 'danger';
    confirm?: { title: string; text: string; yes: string; no: string };
  }[];
  /**
   * A picture of what the card is about (an app's screenshot): the PNG's bytes (`png`), which
   * each adapter delivers its own way (Slack uploads it into the card's thread, Discord attaches
   * it to the message and its embed shows it, the terminal saves it and prints the path), or a
   * public `url`, or a local `path`. A picture that cannot be delivered is logged and dropped:
   * it never fails the message.
   */
  image?: { png?: Uint8Array; url?: string; path?: string; alt: string };
  /**
   * A file that goes with the card (an app's export zip): Slack uploads it into the card's
   * thread, Discord attaches it to the message, the terminal saves it under
   * `VIBE_DATA_DIR/exports/` and prints the path (`path` is set then). Like `image`, a file that
   * cannot be delivered is logged and dropped: it never fails the message.
   */
  file?: { name: string; bytes: Uint8Array; mime: string; path?: string };
  /** Cards listed under this one (gallery entries). */
  items?: Card[];
  /** Muted footnote, e.g. "offline sample model". */
  footer?: string;
  /** Machine-readable facts about the app the card shows (for --json output and adapters). */
  meta?: { appId?: string; version?: number; url?: string; state?: 'progress' | 'live' | 'failed' };
}

export interface MessageRef {
  /** Platform-qualified id, e.g. "shell:general:12". */
  id: string;
  channelId: string;
  /** Set when the message is inside a thread. */
  threadId?: string;
}

/** What an adapter gives the core for one incoming event. */
export interface Conversation {
  post(card: Card): Promise<MessageRef>;
  update(ref: MessageRef, card: Card): Promise<void>;
  /** A reply in the thread whose id (the root message's) is `threadId`. */
  reply(threadId: string, card: Card): Promise<MessageRef>;
  /** Makes `ref` the root of a thread; returns the thread id. */
  startThread(ref: MessageRef, name: string): Promise<string>;
  /** Visible only to the person who asked. */
  ephemeral(card: Card): Promise<void>;
  /** A link to a thread, where the platform has one. */
  threadLink?(threadId: string): string | undefined;
  /**
   * Where the platform can stream a build's progress into a thread (Slack's chat streaming): a
   * stream for the thread `threadId`, or undefined. `onRefused` is called once if the workspace or
   * token turns streaming down (then the status message carries the progress, as without one).
   */
  stream?(threadId: string, onRefused: (err: unknown) => void): ProgressStream | undefined;
  /**
   * The thread's messages, oldest first, where the platform lets the bot read them (the root
   * included). `since` (epoch ms): only newer ones are needed, a hint the platform may use.
   */
  history?(threadId: string, since?: number): Promise<ChatMessage[]>;
  /**
   * Shows a card for each app link the event's message carried (Slack: `chat.unfurl` on the
   * message; Discord: a reply to it). Only where the event was a shared link.
   */
  unfurl?(links: { url: string; card: Card }[]): Promise<void>;
}

/** A message of a chat thread as the platform gives it (see `Conversation.history`). */
export interface ChatMessage {
  /** Platform-qualified message id, as `ChatContext.messageId`. */
  id: string;
  authorId: string;
  authorName?: string;
  text: string;
  /** When it was posted (epoch ms). */
  at: number;
  /** Written by a bot (this one included) or the platform itself. */
  fromBot: boolean;
}

export interface Actor {
  id: string;
  name?: string;
  /** May manage others' apps in this channel (channel manager / Manage Messages). */
  isManager?: boolean;
}
