import { describe, expect, it } from 'vitest';
import { renderDiscordMessage } from '../../adapters/discord/render-discord.ts';
import { renderCardText } from '../../adapters/shell/render-text.ts';
import { commandFor } from '../../src/core/chat/actions.ts';
import { renderSlackMessage } from '../../adapters/slack/render-blocks.ts';
import { confirmDeleteCard, galleryCard, versionsCard } from '../../src/core/chat/cards.ts';
import type { AppRecord, Card, VersionRecord } from '../../src/core/ports/index.ts';
import { zeroUsage } from '../../src/core/limits/usage.ts';

const app: AppRecord = {
  id: 'k3j9x0q2ab',
  channelId: 'slack:T1:C1',
  threadId: 'slack:T1:C1:1.1',
  ownerId: 'u1',
  title: 'Timer',
  summary: 'A timer',
  prompt: 'a timer',
  createdAt: 0,
  updatedAt: 0,
  latestVersion: 3,
};
const version = (n: number): VersionRecord => ({
  appId: app.id,
  number: n,
  files: {},
  instruction: `v${n}`,
  authorId: 'u1',
  createdAt: 0,
  usage: zeroUsage(),
  model: 'm',
});

// Renderers work from what a card says (link kinds, an action's confirm, an image), never from labels.
describe('the card model', () => {
  it('page text never becomes a clickable masked link on Discord', () => {
    const body = renderDiscordMessage({ text: 'hit: [Sign in again](https://evil.example)' });
    const text = (body.embeds[0] as { description?: string }).description ?? '';
    expect(text).toContain('\\[Sign in again](https://evil.example)'); // the bracket escaped: no masked link
    expect(text).not.toMatch(/(^|[^\\])\[Sign in again\]\(/);
  });

  it('asks for confirmation where the card says so, whatever the button is called', () => {
    const card = confirmDeleteCard(app);
    const renamed: Card = {
      ...card,
      actions: card.actions!.map((a) => ({ ...a, label: 'Ja, löschen', action: 'delete' as const })),
    };
    const slack = JSON.stringify(renderSlackMessage(renamed).blocks);
    expect(slack).toContain('"confirm":{"type":"plain_text","text":"Delete"}');
    expect(
      JSON.stringify(renderSlackMessage({ ...card, actions: card.actions!.map(({ confirm: _c, ...a }) => a) }).blocks),
    ).not.toContain('"deny"');
  });

  it("finds a gallery entry's thread link by its kind, not its label", () => {
    const page = galleryCard({
      items: [{ app, live: true, url: 'https://x.test/apps/k3j9x0q2ab/', threadUrl: 'https://discord.test/thread' }],
    });
    const relabelled: Card = {
      ...page,
      items: page.items!.map((i) => ({
        ...i,
        links: i.links!.map((l) => ({ ...l, label: l.kind === 'thread' ? 'Fil' : l.label })),
      })),
    };
    const embed = renderDiscordMessage(relabelled).embeds.find((e) => e.title === 'Timer');
    expect(embed?.fields?.some((f) => f.value === 'https://discord.test/thread')).toBe(true);
  });

  it("carries restore values through one codec, to the terminal chat's text twin", () => {
    const card = versionsCard(app, [version(3), version(2), version(1)]);
    const restore = card.actions!.find((a) => a.label === 'Restore v2')!;
    expect(commandFor(restore.action, restore.value)).toBe('/vibe restore 2 k3j9x0q2ab');
  });

  it('renders an image on every platform', () => {
    const card: Card = {
      title: 'Timer',
      image: { url: 'https://x.test/shot.png', path: 'data/screenshots/k3j9x0q2ab-v3.png', alt: 'The timer app' },
    };
    expect(renderSlackMessage(card).blocks).toContainEqual({
      type: 'image',
      image_url: 'https://x.test/shot.png',
      alt_text: 'The timer app',
    });
    expect(renderDiscordMessage(card).embeds[0]?.image).toEqual({ url: 'https://x.test/shot.png' });
    expect(renderCardText(card)).toContain('Screenshot: data/screenshots/k3j9x0q2ab-v3.png');
    expect(renderCardText({ ...card, image: { url: 'https://x.test/shot.png', alt: 'The timer app' } })).toContain(
      'Image (The timer app): https://x.test/shot.png',
    );
  });
});
