/**
 * Which pages may open an app's shared state: browsers send the page's origin with every
 * WebSocket handshake, and another app's page must never get in. With apps on origins of their
 * own (`<id>.<appDomain>`) that is the app's own host name only; with path links every app
 * shares the gateway's origin (as they share localStorage), so any of its names; plus the app's
 * sandbox's own origin (a Modal tunnel serving its live view). No Origin at all is no browser
 * (a script; it could send any Origin it liked): let through, as anyone with the link can.
 */
export function sharedOriginPolicy(opts: {
  appDomain?: string;
  /** The gateway's own host names (path links). */
  gatewayHosts: string[];
  sandboxUrl(appId: string): Promise<string | undefined>;
}): (appId: string, origin: string | undefined) => Promise<boolean> {
  const gateway = new Set(opts.gatewayHosts.map((h) => h.toLowerCase()));
  return async (appId, origin) => {
    if (origin === undefined) return true;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false;
    }
    const host = url.hostname.toLowerCase();
    if (opts.appDomain ? host === `${appId}.${opts.appDomain.toLowerCase()}` : gateway.has(host)) return true;
    const sandbox = await opts.sandboxUrl(appId);
    return sandbox !== undefined && new URL(sandbox).origin === url.origin;
  };
}
