import type { Card, Conversation, MessageRef } from '../../src/core/ports/index.ts';

export interface Recorded {
  type: 'post' | 'update' | 'reply' | 'ephemeral' | 'thread';
  id?: string;
  thread?: string;
  card?: Card;
}

/** A Conversation that records what the bot sends, as a chat platform would show it. */
export class RecordingConversation implements Conversation {
  readonly events: Recorded[] = [];
  private seq = 0;

  constructor(readonly channelId = 'test:c1') {}

  async post(card: Card): Promise<MessageRef> {
    const id = `m${++this.seq}`;
    this.events.push({ type: 'post', id, card });
    return { id, channelId: this.channelId };
  }

  async update(ref: MessageRef, card: Card): Promise<void> {
    this.events.push({ type: 'update', id: ref.id, card });
  }

  async reply(t: string, card: Card): Promise<MessageRef> {
    const id = `m${++this.seq}`;
    this.events.push({ type: 'reply', id, thread: t, card });
    return { id, channelId: this.channelId, threadId: t };
  }

  async startThread(ref: MessageRef): Promise<string> {
    this.events.push({ type: 'thread', id: ref.id, thread: ref.id });
    return ref.id;
  }

  async ephemeral(card: Card): Promise<void> {
    this.events.push({ type: 'ephemeral', card });
  }

  /** The newest card shown for message `id` (its post/reply or latest update). */
  latest(id: string): Card | undefined {
    return this.events.filter((e) => e.id === id && e.card).at(-1)?.card;
  }

  cards(type?: Recorded['type']): Card[] {
    return this.events.filter((e) => (!type || e.type === type) && e.card).map((e) => e.card!);
  }
}
