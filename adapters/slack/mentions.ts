import type { App } from '@slack/bolt';
import type { VibeBot } from '../../src/core/bot.ts';
import type { Logger } from '../../src/core/ports/index.ts';
import type { BackgroundWork } from '../background-work.ts';
import { SlackConversation } from './slack-conversation.ts';
import { slackAttachments, type SlackFilePlace } from './slack-files.ts';
import { channelKey, userKey } from './slack-ids.ts';
import type { SlackPeople } from './slack-people.ts';

export interface MentionDeps {
  bot: VibeBot;
  people: SlackPeople;
  work: BackgroundWork;
  logger: Logger;
  /** The bot's own user id (auth.test): the mention to take out of the text. */
  botUserId: string;
  workspaceUrl?: string;
  files: Omit<SlackFilePlace, 'client'>;
}

/** The text without the bot's own mention(s) (`<@U0BOT>` or `<@U0BOT|vibe-bot>`). */
export function withoutMention(text: string, botUserId: string): string {
  return text
    .replace(new RegExp(`<@${botUserId}(?:\\|[^>]*)?>`, 'g'), '')
    .replace(/[ \t]{2,}/g, ' ')
    .trim();
}

/** Whether the text names the bot. */
export function mentionsBot(text: string, botUserId: string): boolean {
  return text.includes(`<@${botUserId}>`) || text.includes(`<@${botUserId}|`);
}

/**
 * `@vibe-bot <prompt>` in a channel (the `app_mention` event): the same as `/vibe <prompt>`,
 * pictures attached included. A mention inside a thread arrives as a thread message too, and
 * that listener handles it (it refines the thread's app), so here it is left alone.
 */
export function registerMentions(app: App, deps: MentionDeps): void {
  const { bot, people, work, logger, botUserId, workspaceUrl } = deps;
  app.event('app_mention', async ({ event, body, client }) => {
    const e = event as {
      user?: string;
      bot_id?: string;
      text?: string;
      ts: string;
      thread_ts?: string;
      channel: string;
      files?: unknown;
    };
    if (e.thread_ts && e.thread_ts !== e.ts) return;
    const user = e.user;
    if (!user) return;
    const team = (body as { team_id?: string }).team_id ?? '';
    const eventId = (body as { event_id?: unknown }).event_id;
    work.run(
      'mention',
      async () => {
        const conv = new SlackConversation({ client, team, channel: e.channel, user, workspaceUrl, logger });
        const actor = e.bot_id ? { id: userKey(team, user) } : await people.actor(team, user);
        const images = await slackAttachments(e.files, { client, ...deps.files });
        await bot.command(
          {
            conv,
            actor,
            channelId: channelKey(team, e.channel),
            fromBot: Boolean(e.bot_id),
            mentioned: true,
            ...(images ? { images } : {}),
            ...(typeof eventId === 'string' ? { eventId: `slack:event:${eventId}` } : {}),
          },
          withoutMention(e.text ?? '', botUserId),
        );
      },
      { afterIntake: true },
    );
  });
}
