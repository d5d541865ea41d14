import { escapeMarkdown } from 'discord.js';
import type { APIActionRowComponent, APIButtonComponent, APIComponentInMessageActionRow, APIEmbed } from 'discord.js';
import type { Card } from '../../src/core/ports/index.ts';
import { discordUserId } from './discord-ids.ts';

// Discord's message limits (https://discord.com/developers/docs/resources/message).
export const LIMITS = {
  embeds: 10,
  embedTotal: 6000,
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  rows: 5,
  buttonsPerRow: 5,
  buttonLabel: 80,
  customId: 100,
  attachmentDescription: 1024,
} as const;

/** The name a card's PNG is uploaded under; its embed shows it as `attachment://screenshot.png`. */
export const SCREENSHOT_NAME = 'screenshot.png';

/** A file to upload with the message: the card's PNG, or the file that goes with the card. */
export interface DiscordUpload {
  name: string;
  data: Buffer;
  contentType: string;
  /** Alt text (Discord: the attachment's description); pictures only. */
  description?: string;
}

/** Prefix of every button custom_id: "vibe:<action>:<value>". */
export const CUSTOM_ID_PREFIX = 'vibe:';

export interface DiscordMessageBody {
  content: string;
  embeds: APIEmbed[];
  components: APIActionRowComponent<APIComponentInMessageActionRow>[];
  /** Nobody is ever pinged by what the bot sends. */
  allowed_mentions: { parse: [] };
}

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);
// Masked links too: text from a page or a viewer's report must not become a clickable link.
const safe = (text: string) => escapeMarkdown(text, { maskedLink: true });

/** A card as Discord embeds and buttons, within Discord's limits; user and model text escaped. */
export function renderDiscordMessage(card: Card): DiscordMessageBody {
  const embeds: APIEmbed[] = [];
  const main: APIEmbed = {};
  if (card.title) main.title = clip(safe(card.title), LIMITS.title);
  if (card.text) main.description = clip(safe(card.text), LIMITS.description);
  if (card.fields?.length) main.fields = renderFields(card.fields);
  const appLink = card.meta?.state === 'live' ? card.meta.url : undefined;
  if (appLink) main.url = appLink;
  if (card.footer) main.footer = { text: clip(card.footer, LIMITS.footer) };
  // The uploaded PNG when there is one (the message carries it as a file), else a public URL.
  if (card.image?.png) main.image = { url: `attachment://${SCREENSHOT_NAME}` };
  else if (card.image?.url) main.image = { url: card.image.url };
  if (Object.keys(main).length > 0) embeds.push(main);
  const buttons: APIButtonComponent[] = [...linkButtons(card.links)];
  for (const item of card.items ?? []) {
    const e: APIEmbed = { title: clip(safe(item.title ?? ''), LIMITS.title) };
    if (item.text) e.description = clip(safe(item.text), LIMITS.description);
    if (item.fields?.length) e.fields = renderFields(item.fields);
    if (item.meta?.url) e.url = item.meta.url;
    const thread = item.links?.find((l) => l.kind === 'thread');
    if (thread)
      e.fields = [...(e.fields ?? []), { name: 'Thread', value: clip(thread.url, LIMITS.fieldValue), inline: true }];
    embeds.push(e);
    // An entry's buttons (Remix) sit under all the embeds, so each names its entry.
    buttons.push(...actionButtons(item.actions?.map((a) => ({ ...a, label: `${a.label}: ${item.title ?? ''}` }))));
  }
  buttons.push(...actionButtons(card.actions));
  return { content: '', embeds: capEmbeds(embeds), components: rows(buttons), allowed_mentions: { parse: [] } };
}

/**
 * The files to upload with the card's message, in order: its PNG (shown by its embed), then the
 * file that goes with the card (an attachment only: no embed shows it).
 */
export function discordUploads(card: Card): DiscordUpload[] {
  const uploads: DiscordUpload[] = [];
  const png = card.image?.png;
  if (png)
    uploads.push({
      name: SCREENSHOT_NAME,
      data: asBuffer(png),
      contentType: 'image/png',
      description: clip(card.image!.alt, LIMITS.attachmentDescription),
    });
  if (card.file) uploads.push({ name: card.file.name, data: asBuffer(card.file.bytes), contentType: card.file.mime });
  return uploads;
}

const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function renderFields(fields: NonNullable<Card['fields']>): NonNullable<APIEmbed['fields']> {
  return fields.slice(0, LIMITS.fields).map((f) => {
    // Mentions inside embeds never notify, so the owner can be a real mention.
    const user = f.userId ? discordUserId(f.userId) : undefined;
    return {
      name: clip(safe(f.label), LIMITS.fieldName),
      value: clip(user ? `<@${user}>` : safe(f.value) || '-', LIMITS.fieldValue),
      inline: true,
    };
  });
}

function linkButtons(links: Card['links']): APIButtonComponent[] {
  return (links ?? []).map((l) => ({ type: 2, style: 5, label: clip(l.label, LIMITS.buttonLabel), url: l.url }));
}

function actionButtons(actions: Card['actions']): APIButtonComponent[] {
  return (actions ?? []).map((a) => ({
    type: 2,
    style: a.style === 'danger' ? 4 : a.style === 'primary' ? 1 : 2,
    label: clip(a.label, LIMITS.buttonLabel),
    custom_id: clip(`${CUSTOM_ID_PREFIX}${a.action}:${a.value}`, LIMITS.customId),
  }));
}

function rows(buttons: APIButtonComponent[]): DiscordMessageBody['components'] {
  const out: DiscordMessageBody['components'] = [];
  for (let i = 0; i < buttons.length && out.length < LIMITS.rows; i += LIMITS.buttonsPerRow) {
    out.push({ type: 1, components: buttons.slice(i, i + LIMITS.buttonsPerRow) });
  }
  return out;
}

/** At most 10 embeds and 6,000 characters across them; later ones are dropped first. */
function capEmbeds(embeds: APIEmbed[]): APIEmbed[] {
  const kept: APIEmbed[] = [];
  let total = 0;
  for (const e of embeds.slice(0, LIMITS.embeds)) {
    const size = embedSize(e);
    if (total + size > LIMITS.embedTotal) break;
    kept.push(e);
    total += size;
  }
  return kept;
}

export function embedSize(e: APIEmbed): number {
  return (
    (e.title?.length ?? 0) +
    (e.description?.length ?? 0) +
    (e.footer?.text.length ?? 0) +
    (e.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0)
  );
}

/** "vibe:gallery:abc" -> { action: 'gallery', value: 'abc' }; undefined for foreign ids. */
export function parseCustomId(customId: string): { action: string; value: string } | undefined {
  if (!customId.startsWith(CUSTOM_ID_PREFIX)) return undefined;
  const rest = customId.slice(CUSTOM_ID_PREFIX.length);
  const i = rest.indexOf(':');
  return i < 0 ? { action: rest, value: '' } : { action: rest.slice(0, i), value: rest.slice(i + 1) };
}
