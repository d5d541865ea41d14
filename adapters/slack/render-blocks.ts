import type { types } from '@slack/bolt';
import type { Card } from '../../src/core/ports/index.ts';
import { slackUserId } from './slack-ids.ts';
import { clip, escapeMrkdwn, inertPlain } from './slack-text.ts';

type ActionsBlock = types.ActionsBlock;
type Button = types.Button;
type KnownBlock = types.KnownBlock;
type SectionBlock = types.SectionBlock;

// Slack's Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks).
export const LIMITS = {
  blocks: 50,
  headerText: 150,
  sectionText: 3000,
  fields: 10,
  fieldText: 2000,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  contextText: 3000,
  fallbackText: 3000,
} as const;

/** Prefix of every action_id the bot puts on a button: "vibe:<action>:<n>". */
export const ACTION_PREFIX = 'vibe:';

export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

/**
 * A card as Block Kit, within Slack's limits. Everything from users or the model is escaped.
 * `mentions`: render people as `<@U…>` (only where that cannot notify: ephemeral messages).
 * `imageFile`: the card's picture as a file already uploaded to Slack (its id; see hosted-images.ts).
 */
export function renderSlackMessage(card: Card, opts: { mentions?: boolean; imageFile?: string } = {}): SlackMessage {
  const blocks: KnownBlock[] = [];
  let buttons = 0;
  if (card.title)
    blocks.push({
      type: 'header',
      text: { type: 'plain_text', text: clip(inertPlain(card.title), LIMITS.headerText), emoji: true },
    });
  if (card.text) blocks.push(section(card.text));
  if (card.fields?.length) blocks.push(fieldsSection(card.fields, opts));
  // A public image only: Slack fetches it; a local file has to be uploaded into the thread instead.
  if (card.image && opts.imageFile)
    blocks.push({ type: 'image', slack_file: { id: opts.imageFile }, alt_text: clip(card.image.alt, 2000) });
  else if (card.image?.url)
    blocks.push({ type: 'image', image_url: card.image.url, alt_text: clip(card.image.alt, 2000) });
  const actions = [...linkButtons(card.links, () => buttons++), ...actionButtons(card.actions, () => buttons++)];
  for (const item of card.items ?? []) {
    blocks.push({ type: 'divider' });
    blocks.push(
      section(`*${escapeMrkdwn(item.title ?? '')}*${item.text ? `\n${escapeMrkdwn(item.text)}` : ''}`, false),
    );
    if (item.fields?.length) blocks.push(fieldsSection(item.fields, opts));
    const itemButtons = [...linkButtons(item.links, () => buttons++), ...actionButtons(item.actions, () => buttons++)];
    if (itemButtons.length) blocks.push(actionsBlock(itemButtons));
  }
  if (actions.length) blocks.push(actionsBlock(actions));
  if (card.footer)
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: clip(escapeMrkdwn(card.footer), LIMITS.contextText) }],
    });
  return { text: fallbackText(card), blocks: capBlocks(blocks) };
}

/** Notification and screen-reader text: the title and first lines, escaped. */
function fallbackText(card: Card): string {
  const parts = [card.title, card.text, ...(card.items ?? []).map((i) => i.title)].filter(Boolean) as string[];
  return clip(escapeMrkdwn(parts.join('\n')), LIMITS.fallbackText) || ' ';
}

function section(text: string, escape = true): SectionBlock {
  return {
    type: 'section',
    text: { type: 'mrkdwn', text: clip(escape ? escapeMrkdwn(text) : text, LIMITS.sectionText) },
  };
}

function fieldsSection(fields: NonNullable<Card['fields']>, opts: { mentions?: boolean }): SectionBlock {
  return {
    type: 'section',
    fields: fields.slice(0, LIMITS.fields).map((f) => {
      const user = opts.mentions && f.userId ? slackUserId(f.userId) : undefined;
      const value = user ? `<@${user}>` : escapeMrkdwn(f.value);
      return { type: 'mrkdwn' as const, text: clip(`*${escapeMrkdwn(f.label)}*\n${value}`, LIMITS.fieldText) };
    }),
  };
}

function linkButtons(links: Card['links'], next: () => number): Button[] {
  return (links ?? []).map((l) => ({
    type: 'button',
    text: { type: 'plain_text', text: clip(inertPlain(l.label), LIMITS.buttonText) },
    url: l.url,
    action_id: `${ACTION_PREFIX}link:${next()}`,
  }));
}

function actionButtons(actions: Card['actions'], next: () => number): Button[] {
  return (actions ?? []).map((a) => ({
    type: 'button',
    text: { type: 'plain_text', text: clip(inertPlain(a.label), LIMITS.buttonText) },
    action_id: `${ACTION_PREFIX}${a.action}:${next()}`,
    value: clip(a.value, LIMITS.buttonValue),
    ...(a.style ? { style: a.style } : {}),
    // The platform's own "are you sure?" dialog, for actions that ask for one.
    ...(a.confirm
      ? {
          confirm: {
            title: { type: 'plain_text', text: clip(a.confirm.title, 100) },
            text: { type: 'plain_text', text: clip(a.confirm.text, 300) },
            confirm: { type: 'plain_text', text: clip(a.confirm.yes, 30) },
            deny: { type: 'plain_text', text: clip(a.confirm.no, 30) },
            ...(a.style === 'danger' ? { style: 'danger' as const } : {}),
          },
        }
      : {}),
  }));
}

function actionsBlock(elements: Button[]): ActionsBlock {
  return { type: 'actions', elements: elements.slice(0, LIMITS.actionsElements) };
}

/** Keeps a message under 50 blocks, saying so when something was left out. */
function capBlocks(blocks: KnownBlock[]): KnownBlock[] {
  if (blocks.length <= LIMITS.blocks) return blocks;
  const kept = blocks.slice(0, LIMITS.blocks - 1);
  kept.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: `${blocks.length - kept.length} more blocks not shown.` }],
  });
  return kept;
}

/** "vibe:undo:3" -> "undo"; undefined for link buttons and foreign ids. */
export function actionFromId(actionId: string): string | undefined {
  if (!actionId.startsWith(ACTION_PREFIX)) return undefined;
  const action = actionId.slice(ACTION_PREFIX.length).replace(/:\d+$/, '');
  return action === 'link' ? undefined : action;
}
