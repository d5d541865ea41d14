import type { types } from '@slack/bolt';
import type { HomeView } from '../../src/core/flows/home.ts';
import { renderSlackMessage } from './render-blocks.ts';
import { clip, escapeMrkdwn } from './slack-text.ts';

/** A view holds at most 100 blocks (a message 50). */
const VIEW_BLOCKS = 100;

/**
 * The App Home tab as Block Kit: per list a header, each app as its card (title, summary,
 * version, owner, its picture as an uploaded file, Open and Thread), then the list's paging
 * buttons. `imageFor` gives the Slack file id of an app's picture (undefined: none shown). The home
 * is the person's alone, so owners are real mentions (they notify nobody).
 */
export async function renderHomeBlocks(
  view: HomeView,
  imageFor: (png: Uint8Array, alt: string) => Promise<string | undefined>,
): Promise<types.KnownBlock[]> {
  const blocks: types.KnownBlock[] = [];
  for (const section of view.sections) {
    blocks.push({ type: 'header', text: { type: 'plain_text', text: clip(section.title, 150) } });
    if (section.apps.length === 0)
      blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(escapeMrkdwn(section.empty), 3000) } });
    for (const app of section.apps) {
      const png = app.image?.png;
      const file = png ? await imageFor(png, app.image!.alt) : undefined;
      blocks.push(...renderSlackMessage(app, { mentions: true, ...(file ? { imageFile: file } : {}) }).blocks);
      blocks.push({ type: 'divider' });
    }
    if (section.actions.length > 0) blocks.push(...renderSlackMessage({ actions: section.actions }).blocks);
  }
  return blocks.slice(0, VIEW_BLOCKS);
}

/** What the home view carries between presses (Slack gives it back with every button on it). */
export function homeMetadata(channel: string): string {
  return JSON.stringify({ channel });
}

export function readHomeMetadata(raw: string | undefined): { channel?: string } {
  try {
    const parsed = JSON.parse(raw ?? '{}') as { channel?: unknown };
    return typeof parsed.channel === 'string' ? { channel: parsed.channel } : {};
  } catch {
    return {};
  }
}
