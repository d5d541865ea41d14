import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { VibeBot } from '../../src/core/bot.ts';
import type { ChatContext } from '../../src/core/chat/context.ts';
import type { Actor, Card, Conversation, Logger, MessageRef } from '../../src/core/ports/index.ts';
import type { ImageAttachment } from '../../src/core/ports/images.ts';
import { fileAttachment } from './image-file.ts';

/** Everything the terminal chat shows: one event per post, edit, reply, thread and private note. */
export interface ShellEvent {
  type: 'post' | 'update' | 'reply' | 'ephemeral' | 'thread' | 'info';
  /** Message id, e.g. "shell:general:3". */
  id?: string;
  channel: string;
  thread?: string;
  /** Who sees an ephemeral message. */
  user?: string;
  card?: Card;
  /** For info lines (help of the shell itself, errors in input). */
  text?: string;
}

export type ShellSink = (e: ShellEvent) => void;

export interface ShellChatOptions {
  /**
   * Where screenshots are saved, under `screenshots/`, and cards' files under `exports/` (default
   * `./data`, beside the bot's log).
   */
  dataDir?: string;
  /** Where a screenshot or file that could not be saved is reported (besides an info line). */
  logger?: Pick<Logger, 'warn'>;
}

/** A line of input, already parsed (JSON mode may set every field; typed text sets `text`). */
export interface ShellInput {
  text?: string;
  channel?: string;
  thread?: string;
  user?: string;
  /** Press a button: the card action's `action` and `value`. */
  action?: string;
  value?: string;
}

export const SHELL_HELP = [
  'Terminal chat commands:',
  '  /vibe <what to build>   build an app (its thread opens automatically)',
  '  /vibe gallery | mine | help | versions | undo | restore N | delete | fix | data',
  '  /image PATH             attach a picture (PNG, JPEG, GIF, WebP) to your next message',
  '  /thread N               enter the thread of message N (then type to change its app)',
  '  /back                   leave the thread',
  '  /channel NAME           switch channel',
  '  /user NAME              speak as another user',
  '  /quit                   leave',
].join('\n');

/**
 * A chat that lives in a terminal: channels, threads and messages with numbers. It turns
 * input into calls on the bot and the bot's messages into ShellEvents.
 */
export class ShellChat {
  private seq = 0;
  channel = 'general';
  thread?: string;
  user = 'you';
  private readonly threadOf = new Map<string, string>(); // message id -> thread id
  /** Pictures `/image` attached, for the next message (a create or a change). */
  private pictures: ImageAttachment[] = [];

  constructor(
    private readonly bot: VibeBot,
    private readonly emit: ShellSink,
    private readonly options: ShellChatOptions = {},
  ) {
    // Posts outside any input (a note about an error a viewer of an app hit) go to the app's channel.
    bot.connect((channelId) =>
      channelId.startsWith('shell:') ? this.conversation(channelId.slice('shell:'.length), this.user) : undefined,
    );
  }

  /** Handles one line; resolves when the shell has dispatched it (not when the bot is done). */
  handle(input: ShellInput): Promise<void> | void {
    const [first, ...words] = (input.text ?? '').trim().split(/\s+/);
    if (first === '/image') return this.attach(words.join(' '));
    const channel = input.channel ?? this.channel;
    const thread = input.thread ?? this.thread;
    const user = input.user ?? this.user;
    const ctx = this.context(channel, thread, user);
    if (input.action) return this.bot.action(ctx, input.action, input.value ?? '');
    const text = (input.text ?? '').trim();
    if (text === '') return;
    if (text === '/vibe' || text.startsWith('/vibe ')) return this.bot.command(this.withPictures(ctx), text.slice(5));
    const [word, ...rest] = text.split(/\s+/);
    switch (word) {
      case '/help':
        return this.info(SHELL_HELP);
      case '/thread': {
        const n = rest[0]?.replace(/^#/, '');
        const id = this.messageId(n);
        if (!id) return this.info(`No message ${rest[0] ?? ''}. Use the number shown in [#channel N].`);
        this.thread = this.threadOf.get(id) ?? id;
        this.channel = this.thread.split(':')[1] ?? this.channel;
        return this.info(`In the thread of message ${n}. Type to change its app; /back to leave.`);
      }
      case '/back':
        this.thread = undefined;
        return this.info(`Back in #${this.channel}.`);
      case '/channel':
        if (!rest[0]) return this.info('Which channel? /channel NAME');
        this.channel = rest[0].replace(/^#/, '');
        this.thread = undefined;
        return this.info(`Now in #${this.channel}.`);
      case '/user':
        if (!rest[0]) return this.info('Who? /user NAME');
        this.user = rest[0];
        return this.info(`You are now ${this.user}.`);
    }
    if (text.startsWith('/')) return this.info(`Unknown command ${word}. ${SHELL_HELP}`);
    if (!thread) return this.info("Start with /vibe <what to build>, or /thread N to talk in an app's thread.");
    return this.bot.threadMessage(this.withPictures(ctx), text);
  }

  /** `/image PATH`: the picture goes with the next message (the core checks it then). */
  private attach(path: string): void {
    if (!path) return this.info('Which picture? /image PATH');
    const picture = fileAttachment(path);
    if (!picture) return this.info(`No file at ${path}.`);
    this.pictures.push(picture);
    this.info(`Picture ${picture.name} goes with your next message (${this.pictures.length} attached).`);
  }

  /** The context with the pictures attached so far, which are then cleared. */
  private withPictures(ctx: ChatContext): ChatContext {
    if (this.pictures.length === 0) return ctx;
    const images = this.pictures;
    this.pictures = [];
    return { ...ctx, images };
  }

  private context(channel: string, thread: string | undefined, user: string): ChatContext {
    const actor: Actor = { id: `shell:${user}`, name: user, isManager: false };
    return { conv: this.conversation(channel, user), actor, channelId: `shell:${channel}`, threadId: thread };
  }

  private conversation(channel: string, user: string): Conversation {
    const next = (thread?: string): MessageRef => {
      const id = `shell:${channel}:${++this.seq}`;
      if (thread) this.threadOf.set(id, thread);
      return { id, channelId: `shell:${channel}`, threadId: thread };
    };
    return {
      post: async (card) => {
        const ref = next();
        this.emit({ type: 'post', id: ref.id, channel, card: this.save(card) });
        return ref;
      },
      update: async (ref, card) => {
        this.emit({ type: 'update', id: ref.id, channel, thread: ref.threadId, card: this.save(card) });
      },
      reply: async (thread, card) => {
        const ref = next(thread);
        this.emit({ type: 'reply', id: ref.id, channel, thread, card: this.save(card) });
        return ref;
      },
      startThread: async (ref) => {
        this.threadOf.set(ref.id, ref.id);
        this.thread = ref.id; // the person who asked lands in the new thread, ready to refine
        this.emit({ type: 'thread', id: ref.id, channel, thread: ref.id });
        return ref.id;
      },
      ephemeral: async (card) => {
        this.emit({ type: 'ephemeral', channel, user, card: this.save(card) });
      },
    };
  }

  /** The card as the terminal shows it: its picture and its file saved, by their paths. */
  private save(card: Card): Card {
    return this.saveFile(this.saveImage(card));
  }

  /**
   * A terminal cannot show a picture: the card's PNG is saved to
   * `<data dir>/screenshots/<appId>-v<version>.png` and the card carries its path instead of the
   * bytes. Written synchronously, so messages keep their order. A file that cannot be written is
   * reported and the card goes out without it.
   */
  private saveImage(card: Card): Card {
    const { png, ...image } = card.image ?? { alt: '' };
    if (!png) return card;
    const { appId, version } = card.meta ?? {};
    const name =
      appId && /^[a-z0-9]{1,64}$/.test(appId) && Number.isInteger(version)
        ? `${appId}-v${version}.png`
        : `screenshot-${new Date().toISOString().replace(/[:.]/g, '-')}.png`;
    const path = this.dataPath('screenshots', name);
    const { image: _image, ...rest } = card;
    if (this.write('screenshot', path, png)) return { ...rest, image: { ...image, path } };
    return image.url || image.path ? { ...rest, image } : rest;
  }

  /**
   * The card's file (an app's export) is saved to `<data dir>/exports/<name>` and the card carries
   * its `path` (its bytes stay for this process; the --json output shows their size only). A name
   * that is not a plain file name (the core's are), or a file that cannot be written, is reported
   * and the card goes out without it.
   */
  private saveFile(card: Card): Card {
    const file = card.file;
    if (!file) return card;
    const { file: _file, ...rest } = card;
    if (!file.name || /[/\\]/.test(file.name) || file.name.startsWith('.')) {
      this.options.logger?.warn({ name: file.name }, 'shell: refused a file name that is not a plain name');
      this.info(`Refused to save a file named ${JSON.stringify(file.name)}: not a plain file name.`);
      return rest;
    }
    const path = this.dataPath('exports', file.name);
    return this.write('file', path, file.bytes) ? { ...rest, file: { ...file, path } } : rest;
  }

  private dataPath(folder: string, name: string): string {
    return resolve(join(this.options.dataDir ?? './data', folder, name));
  }

  /** Writes `bytes` to `path` (its folder made as needed); false, reported, when it cannot. */
  private write(what: string, path: string, bytes: Uint8Array): boolean {
    try {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, bytes);
      return true;
    } catch (err) {
      this.options.logger?.warn({ err, path }, `shell: could not save the ${what}`);
      this.info(`Could not save the ${what} to ${path}: ${(err as Error).message}`);
      return false;
    }
  }

  private messageId(n: string | undefined): string | undefined {
    if (!n || !/^\d+$/.test(n)) return undefined;
    for (const id of this.threadOf.keys()) if (id.endsWith(`:${n}`)) return id;
    return undefined;
  }

  private info(text: string): void {
    this.emit({ type: 'info', channel: this.channel, thread: this.thread, text });
  }
}
