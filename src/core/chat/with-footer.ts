import type { Card, Conversation } from '../ports/index.ts';

/** Where each Conversation method that sends a card takes it. */
const CARD_ARGUMENT: Partial<Record<keyof Conversation, number>> = { post: 0, update: 1, reply: 1, ephemeral: 0 };

/**
 * `conv` with a footer added to every card sent through it (the offline model's note). A
 * proxy, so every other method of the port (an optional one added later included) passes through.
 */
export function withFooter(conv: Conversation, footer: string): Conversation {
  const add = (card: Card): Card => ({ ...card, footer: card.footer ? `${card.footer} · ${footer}` : footer });
  return new Proxy(conv, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const at = CARD_ARGUMENT[prop as keyof Conversation];
      return (...args: unknown[]) => {
        if (at !== undefined) args[at] = add(args[at] as Card);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
