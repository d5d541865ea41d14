import { UserError } from '../errors.ts';
import { teamOf, workspaceOf } from '../ids.ts';
import type { BotRequest, Policy } from './policy.ts';
import type { AppStore } from '../ports/index.ts';
import { DAY_MS, HOUR_MS, type UsageMeter } from './usage-meter.ts';

/** The limits a team sets (docs/settings.md); undefined or 0 = no limit. */
export interface FairUseLimits {
  /** VIBE_USER_BUILDS_PER_HOUR: creates, refinements, remixes and exports one person may start per clock hour. */
  userBuildsPerHour?: number;
  /** VIBE_USER_DAILY_TOKENS: output tokens one person's builds may use per UTC day. */
  userDailyTokens?: number;
  /** VIBE_CHANNEL_DAILY_TOKENS, VIBE_TEAM_DAILY_TOKENS: the same for a channel, a workspace or server. */
  channelDailyTokens?: number;
  teamDailyTokens?: number;
  /** VIBE_CHANNEL_MAX_APPS: apps (not deleted) one channel may hold. */
  channelMaxApps?: number;
  /** VIBE_ALLOWED_TEAMS: Slack team ids / Discord guild ids the bot serves; unset = every one. */
  allowedTeams?: string[];
}

const BUILDS: BotRequest['kind'][] = ['create', 'refine'];
/** What makes a new app (a channel's cap): a remix costs no tokens, but is a new app with a sandbox. */
const NEW_APPS: BotRequest['kind'][] = ['create', 'remix'];
/** What the hourly build limit counts: every request that runs a build, exports (each builds in the app's sandbox) and remixes included. */
const COUNTED_BUILDS: BotRequest['kind'][] = [...BUILDS, 'remix', 'export'];
const set = (n: number | undefined): n is number => n !== undefined && n > 0;
const num = (n: number) => n.toLocaleString('en-US');
const BY_OPERATOR = 'a limit set by whoever runs this bot';

/** "at 14:00 UTC (in 23 minutes)": when a window that ends at `at` resets. */
export function resetText(at: number, now: number): string {
  const hhmm = new Date(at).toISOString().slice(11, 16);
  const minutes = Math.max(1, Math.ceil((at - now) / 60_000));
  const inText = minutes < 120 ? `${minutes} minute${minutes === 1 ? '' : 's'}` : `${Math.round(minutes / 60)} hours`;
  return `at ${hhmm} UTC (in ${inText})`;
}

/**
 * A bot restricted to some workspaces answers every other one with one polite refusal and does
 * nothing else. Channels without a team (the terminal) are the operator's own and always served.
 */
export class AllowedTeamsPolicy implements Policy {
  readonly name = 'allowed-teams';
  constructor(private readonly allowed: string[]) {}

  async admit({ ctx }: BotRequest): Promise<void> {
    const team = teamOf(ctx.channelId);
    if (team === '' || this.allowed.includes(team)) return;
    throw new UserError(
      'Sorry, vibe-bot is not available in this workspace: whoever runs it has limited it to other teams.',
    );
  }
}

/**
 * An app is found, changed, restored or listed only from its own workspace or server: an id typed
 * elsewhere finds nothing (the same answer as an id that does not exist, so nothing leaks).
 */
export class AppTenancyPolicy implements Policy {
  readonly name = 'app-tenancy';
  constructor(private readonly store: AppStore) {}

  async admit({ ctx, appId, app: known }: BotRequest): Promise<void> {
    if (!appId) return;
    const app = known?.id === appId ? known : await this.store.getApp(appId);
    if (app && workspaceOf(app.channelId) !== workspaceOf(ctx.channelId))
      throw new UserError(`There is no app "${appId}" (it may have been deleted).`);
  }
}

/** VIBE_CHANNEL_MAX_APPS: a create or remix in a full channel is refused. */
export class ChannelAppsPolicy implements Policy {
  readonly name = 'channel-apps';
  constructor(
    private readonly store: AppStore,
    private readonly max: number,
  ) {}

  async admit({ kind, ctx }: BotRequest): Promise<void> {
    if (!NEW_APPS.includes(kind)) return;
    // Pages until the cap is reached or the channel's list ends: deleted apps do not count.
    let live = 0;
    let cursor: string | undefined;
    for (let reads = 0; reads < 50; reads++) {
      const page = await this.store.appsInChannel(ctx.channelId, Math.min(100, this.max + 1), cursor);
      live += page.items.filter((a) => !a.deleted).length;
      if (live >= this.max || !page.next) break;
      cursor = page.next;
    }
    if (live >= this.max)
      throw new UserError(
        `This channel already holds ${num(this.max)} apps, the most it may (${BY_OPERATOR}). Delete one (\`/vibe delete\` in its thread) to make room.`,
      );
  }
}

/** Daily output-token budgets of the person, the channel and the workspace: spent = no new build until the day resets. */
export class TokenBudgetPolicy implements Policy {
  readonly name = 'token-budgets';
  constructor(
    private readonly meter: UsageMeter,
    private readonly limits: FairUseLimits,
  ) {}

  async admit({ kind, ctx }: BotRequest): Promise<void> {
    if (!BUILDS.includes(kind)) return;
    const { userDailyTokens: user, channelDailyTokens: channel, teamDailyTokens: team } = this.limits;
    if (!set(user) && !set(channel) && !set(team)) return;
    const used = await this.meter.snapshot({ userId: ctx.actor.id, channelId: ctx.channelId });
    const spent = (
      [
        [user, used.userTokensToday, 'You have'],
        [channel, used.channelTokensToday, 'This channel has'],
        [team, used.teamTokensToday, 'This workspace has'],
      ] as const
    ).find(([limit, n]) => set(limit) && n >= limit);
    if (!spent) return;
    const [limit, n, who] = spent;
    throw new UserError(
      `${who} used ${num(n)} of ${num(limit!)} output tokens today (${BY_OPERATOR}), so no new build starts until the budget resets ${resetText(this.meter.resetsAt(DAY_MS), this.meter.now())}. \`/vibe usage\` shows the figures.`,
    );
  }
}

/** VIBE_USER_BUILDS_PER_HOUR: counts the build (a create, change or export) when it is let through (so run it last). */
export class BuildRatePolicy implements Policy {
  readonly name = 'build-rate';
  constructor(
    private readonly meter: UsageMeter,
    private readonly perHour: number,
  ) {}

  async admit({ kind, ctx }: BotRequest): Promise<void> {
    if (!COUNTED_BUILDS.includes(kind)) return;
    // Counted first, refused after: two requests at once cannot both take the last build.
    const n = await this.meter.countBuild(ctx.actor.id);
    if (n <= this.perHour) return;
    await this.meter.uncountBuild(ctx.actor.id);
    throw new UserError(
      `You have started ${num(this.perHour)} builds (new apps, changes, remixes and exports) this hour, the most allowed (${BY_OPERATOR}). You can start more ${resetText(this.meter.resetsAt(HOUR_MS), this.meter.now())}.`,
    );
  }
}

/** Every fair-use rule, in the order they run: who may ask at all, then what is left, then the count. */
export function fairUsePolicies(deps: { store: AppStore; meter: UsageMeter; limits: FairUseLimits }): Policy[] {
  const { store, meter, limits } = deps;
  return [
    ...(limits.allowedTeams?.length ? [new AllowedTeamsPolicy(limits.allowedTeams)] : []),
    new AppTenancyPolicy(store),
    ...(set(limits.channelMaxApps) ? [new ChannelAppsPolicy(store, limits.channelMaxApps)] : []),
    new TokenBudgetPolicy(meter, limits),
    ...(set(limits.userBuildsPerHour) ? [new BuildRatePolicy(meter, limits.userBuildsPerHour)] : []),
  ];
}
