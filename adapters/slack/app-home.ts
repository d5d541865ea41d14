import type { App, webApi } from '@slack/bolt';
import type { VibeBot } from '../../src/core/bot.ts';
import { UserError } from '../../src/core/errors.ts';
import { HOME_MAX_CHANNELS } from '../../src/core/flows/home.ts';
import type { Logger } from '../../src/core/ports/index.ts';
import type { BackgroundWork } from '../background-work.ts';
import type { SlackHostedImages } from './hosted-images.ts';
import { homeMetadata, renderHomeBlocks } from './render-home.ts';
import { renderSlackMessage } from './render-blocks.ts';
import { SlackConversation } from './slack-conversation.ts';
import { channelKey } from './slack-ids.ts';
import type { SlackPeople } from './slack-people.ts';

export interface SlackHomeDeps {
  bot: VibeBot;
  people: SlackPeople;
  images: SlackHostedImages;
  work: BackgroundWork;
  workspaceUrl?: string;
  logger: Logger;
}

/** `app_home_opened` (the Home tab): the person's home is published afresh every time they open it. */
export function onAppHome(app: App, deps: SlackHomeDeps): void {
  app.event('app_home_opened', async ({ event, body, client }) => {
    if (event.tab !== 'home') return;
    const team = (body as { team_id?: string }).team_id ?? '';
    const channel = event.channel || event.user; // the App Home's own conversation (its Messages tab)
    deps.work.run('app home', () => publishHome(deps, client, { team, user: event.user, channel }));
  });
}

/**
 * Publishes a person's App Home (`views.publish`): the core's home of their apps and of the
 * channels Slack says they are in (`users.conversations`, scopes `channels:read`/`groups:read`;
 * without them, their own apps only), `at` a page of each list. A refusal (a workspace the bot
 * does not serve) is shown on the home itself.
 */
export async function publishHome(
  deps: SlackHomeDeps,
  client: webApi.WebClient,
  who: { team: string; user: string; channel: string },
  at?: { mine?: string; channels: number },
): Promise<void> {
  const { team, user, channel } = who;
  const conv = new SlackConversation({
    client,
    team,
    channel,
    user,
    workspaceUrl: deps.workspaceUrl,
    logger: deps.logger,
  });
  const ctx = { conv, actor: await deps.people.actor(team, user), channelId: channelKey(team, channel) };
  let blocks;
  try {
    const channels = await userChannels(client, user, deps.logger);
    const view = await deps.bot.home(
      ctx,
      channels.map((c) => channelKey(team, c)),
      at,
    );
    blocks = await renderHomeBlocks(view, (png, alt) => deps.images.fileFor(png, alt));
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    blocks = renderSlackMessage({ title: 'vibe-bot', text: err.message }).blocks;
  }
  await client.views.publish({
    user_id: user,
    view: { type: 'home', blocks, private_metadata: homeMetadata(channel) },
  });
}

/** The channels (public and private) the person is in, as far as the bot may know; none when it may not ask. */
async function userChannels(client: webApi.WebClient, user: string, logger: Pick<Logger, 'warn'>): Promise<string[]> {
  try {
    const res = await client.users.conversations({
      user,
      types: 'public_channel,private_channel',
      exclude_archived: true,
      limit: HOME_MAX_CHANNELS,
    });
    return (res.channels ?? []).map((c) => c.id).filter((id): id is string => typeof id === 'string');
  } catch (err) {
    const code = (err as { data?: { error?: string } }).data?.error;
    logger.warn({ err, code }, "slack: the person's channels could not be listed; their home shows their own apps");
    return [];
  }
}
