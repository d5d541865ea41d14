import { isAppId } from '../ids.ts';

/** The two links of an app: the light view everyone gets, and the creator's live (hot reload) view. */
export interface AppLink {
  open: string;
  creator: string;
  /** False for a sandbox's own URL (a Modal tunnel): it dies when the sandbox stops, and a wake gets a new one. */
  stable: boolean;
}

/**
 * Which URL a user gets for an app: the one place that decides. Through the bot's gateway
 * (`<base>/apps/<id>/`, stable, wakes a stopped app and, on Modal, redirects to its current
 * tunnel), or, where the gateway is not reachable by the people in the channel but sandboxes
 * have public URLs of their own (Modal tunnels without a public VIBE_PUBLIC_URL), the running
 * sandbox's URL, falling back to the gateway link. The creator's view is `dev/` under it.
 */
export class AppLinks {
  private readonly base: string;
  private readonly preferSandboxUrl: boolean;
  private readonly appOrigin?: (appId: string) => string;

  /** `appOrigin`: each app's own origin (VIBE_APP_DOMAIN), used instead of a path under `base`. */
  constructor(opts: { base: string; preferSandboxUrl: boolean; appOrigin?: (appId: string) => string }) {
    this.base = opts.base.replace(/\/+$/, '');
    this.preferSandboxUrl = opts.preferSandboxUrl;
    this.appOrigin = opts.appOrigin;
  }

  forApp(appId: string, sandboxUrl?: string): AppLink {
    const tunnel = this.preferSandboxUrl && sandboxUrl ? sandboxUrl.replace(/\/?$/, '/') : undefined;
    const open = tunnel ?? (this.appOrigin ? `${this.appOrigin(appId)}/` : `${this.base}/apps/${appId}/`);
    return { open, creator: `${open}dev/`, stable: tunnel === undefined };
  }

  /**
   * The app a posted URL is a link of (its light view, creator's view or a pinned version, on its
   * own origin or under `<base>/apps/`), or undefined: the id is read from the URL, then the URL
   * must start with that app's own link, so nothing else is taken for one.
   */
  appIdIn(url: string): string | undefined {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return undefined;
    }
    if (/^\/apps\/[^/]+$/.test(u.pathname)) u.pathname += '/'; // pasted without its last slash
    const href = u.href;
    const candidates = [u.hostname.split('.')[0], /^\/apps\/([^/]+)\//.exec(u.pathname)?.[1]];
    for (const id of candidates) {
      if (!id || !isAppId(id)) continue;
      const own = [this.forApp(id).open, `${this.base}/apps/${id}/`];
      if (own.some((prefix) => href.startsWith(prefix))) return id;
    }
    return undefined;
  }
}

/**
 * Whether people outside this machine's network can open `url`: not a loopback, private,
 * link-local or single-label host (`http://127.0.0.1:8787`, `http://10.0.0.5`, `http://devbox`,
 * `http://app.localhost` are not; `https://vibe.example.com` is).
 */
export function isPublicOrigin(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local') || host.endsWith('.internal'))
    return false;
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(host)?.slice(1).map(Number);
  if (v4) {
    const [a = 0, b = 0] = v4;
    return !(
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b < 128) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b < 32) ||
      (a === 192 && b === 168)
    );
  }
  if (host.includes(':')) return !(host === '::' || host === '::1' || /^f[cd]/.test(host) || /^fe[89ab]/.test(host));
  return host.includes('.');
}
