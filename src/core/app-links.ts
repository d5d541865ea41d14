/** The two links of an app: the light view everyone gets, and the creator's live (hot reload) view. */
export interface AppLink {
  open: string;
  creator: string;
}

/**
 * Which URL a user gets for an app: the one place that decides. Through the bot's gateway
 * (`<base>/apps/<id>/`, stable, wakes a stopped app), or, where sandboxes have public URLs of
 * their own (Modal tunnels), the running sandbox's URL, falling back to the gateway link
 * (which redirects to the tunnel once the app is awake). The creator's view is `dev/` under it.
 */
export class AppLinks {
  private readonly base: string;
  private readonly preferSandboxUrl: boolean;

  constructor(opts: { base: string; preferSandboxUrl: boolean }) {
    this.base = opts.base.replace(/\/+$/, '');
    this.preferSandboxUrl = opts.preferSandboxUrl;
  }

  forApp(appId: string, sandboxUrl?: string): AppLink {
    const open = this.preferSandboxUrl && sandboxUrl ? sandboxUrl.replace(/\/?$/, '/') : `${this.base}/apps/${appId}/`;
    return { open, creator: `${open}dev/` };
  }
}
