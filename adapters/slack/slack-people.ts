import type { webApi } from '@slack/bolt';
import type { Actor } from '../../src/core/ports/index.ts';
import { userKey } from './slack-ids.ts';
import type { Logger } from '../../src/core/ports/index.ts';

const TTL_MS = 5 * 60_000;

/**
 * Who someone is to the core: their id, a display name, and whether they may manage others'
 * apps. Slack's API offers no per-channel "manager" role to ordinary apps, so workspace admins
 * and owners (users.info) count as managers. Cached for five minutes.
 */
export class SlackPeople {
  private cache = new Map<string, { actor: Actor; at: number }>();

  constructor(
    private readonly client: webApi.WebClient,
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly now: () => number = Date.now,
  ) {}

  async actor(team: string, user: string, fallbackName?: string): Promise<Actor> {
    const hit = this.cache.get(`${team}:${user}`);
    if (hit && this.now() - hit.at < TTL_MS) return hit.actor;
    let actor: Actor = { id: userKey(team, user), name: fallbackName, isManager: false };
    try {
      const res = await this.client.users.info({ user });
      const u = res.user;
      actor = {
        id: userKey(team, user),
        name: u?.profile?.display_name || u?.real_name || u?.name || fallbackName,
        isManager: Boolean(u?.is_admin || u?.is_owner),
      };
    } catch (err) {
      this.logger.warn({ err, user }, 'users.info failed; treating the user as a non-manager');
    }
    this.cache.set(`${team}:${user}`, { actor, at: this.now() });
    return actor;
  }
}
