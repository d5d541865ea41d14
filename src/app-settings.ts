import type { Config } from './config.ts';
import { isPublicOrigin } from './core/apps/app-links.ts';
import type { FairUseLimits } from './core/limits/fair-use.ts';

// What the settings mean for the composition root (app.ts): plain values, no object made here.

/**
 * Each app's own origin under VIBE_APP_DOMAIN: `<id>.<domain>`, with the scheme of
 * VIBE_PUBLIC_URL (else http) and the domain's port, else VIBE_PUBLIC_URL's, else the gateway's.
 */
export function appOriginFor(domain: string, config: Config, gatewayPort: number): (appId: string) => string {
  const [host, ownPort] = domain.split(':');
  const pub = config.VIBE_PUBLIC_URL ? new URL(config.VIBE_PUBLIC_URL) : undefined;
  const port = ownPort ?? (pub ? pub.port : String(gatewayPort));
  const scheme = pub?.protocol ?? 'http:';
  return (appId) => `${scheme}//${appId}.${host}${port ? `:${port}` : ''}`;
}

/**
 * The domain apps get origins under: VIBE_APP_DOMAIN, else `localhost` for a gateway on loopback
 * with no VIBE_PUBLIC_URL (browsers resolve `*.localhost` themselves); `none` keeps path links.
 */
export function appDomainOf(config: Config): string | undefined {
  const set = config.VIBE_APP_DOMAIN;
  if (set === 'none') return undefined;
  if (set) return set;
  return onLoopback(config) && !config.VIBE_PUBLIC_URL ? 'localhost' : undefined;
}

/** The gateway listens on this machine's loopback only. */
export const onLoopback = (config: Config) =>
  ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(config.VIBE_HOST.toLowerCase());

/** The gateway's origin when people outside this machine's network can open it (a public VIBE_PUBLIC_URL). */
export function publicGateway(config: Config): string | undefined {
  const url = config.VIBE_PUBLIC_URL;
  return url && isPublicOrigin(url) ? url.replace(/\/+$/, '') : undefined;
}

/** The fair-use settings as the policies take them. */
export function fairUseLimits(config: Config): FairUseLimits {
  return {
    userBuildsPerHour: config.VIBE_USER_BUILDS_PER_HOUR,
    userDailyTokens: config.VIBE_USER_DAILY_TOKENS,
    channelDailyTokens: config.VIBE_CHANNEL_DAILY_TOKENS,
    teamDailyTokens: config.VIBE_TEAM_DAILY_TOKENS,
    channelMaxApps: config.VIBE_CHANNEL_MAX_APPS,
    allowedTeams: config.VIBE_ALLOWED_TEAMS,
  };
}

/** The Modal sandboxes' settings (VIBE_MODAL_*, VIBE_SANDBOX_*). */
export function modalSettings(config: Config) {
  return {
    appName: config.VIBE_MODAL_APP,
    imageName: config.VIBE_MODAL_IMAGE,
    timeoutMs: config.VIBE_SANDBOX_TIMEOUT,
    idleTimeoutMs: config.VIBE_IDLE_TIMEOUT,
    cpu: config.VIBE_SANDBOX_CPU,
    memoryMiB: config.VIBE_SANDBOX_MEMORY,
    bootTimeoutMs: config.VIBE_SANDBOX_BOOT_TIMEOUT,
    reportOrigin: publicGateway(config),
  };
}
