import type { Card } from '../../src/core/ports/index.ts';
import { commandFor } from '../../src/core/chat/actions.ts';

/** A card as terminal lines. Buttons become the text command that does the same thing. */
export function renderCardText(card: Card): string[] {
  const lines: string[] = [];
  if (card.title) lines.push(`**${card.title}**`);
  if (card.text) lines.push(...card.text.split('\n'));
  if (card.fields?.length) lines.push(card.fields.map((f) => `${f.label}: ${f.value}`).join(' · '));
  for (const l of card.links ?? []) lines.push(`${l.label}: ${l.url}`);
  // A saved screenshot by its path (the shell saves a card's PNG); else a public picture's URL.
  if (card.image?.path) lines.push(`Screenshot: ${card.image.path}`);
  else if (card.image?.url) lines.push(`Image (${card.image.alt}): ${card.image.url}`);
  // A card's file (an app's export), saved by the shell.
  if (card.file?.path) lines.push(`File: ${card.file.path}`);
  for (const item of card.items ?? []) {
    const [first = '', ...rest] = renderCardText(item);
    lines.push(`  • ${first.replace(/^\*\*(.*)\*\*$/, '$1')}`, ...rest.map((r) => `    ${r}`));
  }
  if (card.actions?.length)
    lines.push(card.actions.map((a) => `[${a.label}: ${commandFor(a.action, a.value)}]`).join(' '));
  if (card.footer) lines.push(`(${card.footer})`);
  return lines;
}
