import type { App } from '@slack/bolt';
import type { VibeBot } from '../../src/core/bot.ts';
import type { Card, Logger } from '../../src/core/ports/index.ts';
import type { BackgroundWork } from '../background-work.ts';
import type { SlackHostedImages } from './hosted-images.ts';
import { renderSlackMessage } from './render-blocks.ts';
import { SlackConversation, type SlackEventPlace } from './slack-conversation.ts';
import { channelKey, messageKey, userKey } from './slack-ids.ts';

interface LinkSharedEvent {
  channel: string;
  user: string;
  message_ts: string;
  unfurl_id?: string;
  source?: string;
  links?: { domain?: string; url?: string }[];
}

/** The message (or composer) a `link_shared` event is about: where chat.unfurl attaches its cards. */
type UnfurlTarget =
  { channel: string; ts: string } | { unfurl_id: string; source: 'composer' | 'conversations_history' };

/**
 * `link_shared` (scope `links:read`, the app's domain in the manifest's unfurl domains): when
 * someone posts an app link anywhere in the workspace, the core finds the apps and the
 * conversation unfurls them with `chat.unfurl` (scope `links:write`).
 */
export function onLinkShared(
  app: App,
  deps: { bot: VibeBot; images: SlackHostedImages; work: BackgroundWork; workspaceUrl?: string; logger: Logger },
): void {
  app.event('link_shared', async ({ event, body, client }) => {
    const e = event as unknown as LinkSharedEvent;
    const team = (body as { team_id?: string }).team_id ?? '';
    const eventId = (body as { event_id?: unknown }).event_id;
    const urls = (e.links ?? []).map((l) => l.url).filter((u): u is string => typeof u === 'string');
    if (urls.length === 0) return;
    // A link still in the composer has no message yet: Slack names it by unfurl id.
    const composing = e.source === 'composer' && e.unfurl_id;
    const target: UnfurlTarget = composing
      ? { unfurl_id: e.unfurl_id!, source: 'composer' }
      : { channel: e.channel, ts: e.message_ts };
    deps.work.run('link shared', async () => {
      const conv = new SlackLinkConversation(
        { client, team, channel: e.channel, user: e.user, workspaceUrl: deps.workspaceUrl, logger: deps.logger },
        target,
        deps.images,
      );
      await deps.bot.linkShared(
        {
          conv,
          actor: { id: userKey(team, e.user) },
          channelId: channelKey(team, e.channel),
          ...(composing ? {} : { messageId: messageKey(team, e.channel, e.message_ts) }),
          ...(typeof eventId === 'string' ? { eventId: `slack:event:${eventId}` } : {}),
        },
        urls,
      );
    });
  });
}

/** The Conversation of a shared link: its cards become the link's unfurls. */
class SlackLinkConversation extends SlackConversation {
  constructor(
    private readonly where: SlackEventPlace,
    private readonly target: UnfurlTarget,
    private readonly images: SlackHostedImages,
  ) {
    super(where);
  }

  async unfurl(links: { url: string; card: Card }[]): Promise<void> {
    const unfurls: Record<string, { blocks: ReturnType<typeof renderSlackMessage>['blocks'] }> = {};
    for (const { url, card } of links) {
      const png = card.image?.png;
      const file = png ? await this.images.fileFor(png, card.image!.alt) : undefined;
      unfurls[url] = { blocks: renderSlackMessage(card, file ? { imageFile: file } : {}).blocks };
    }
    await this.where.client.chat.unfurl({ ...this.target, unfurls });
  }
}
