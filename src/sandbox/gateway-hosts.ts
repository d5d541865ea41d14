import type http from 'node:http';
import { APP_ID_PATTERN } from '../core/ids.ts';

const APP_ID_ONLY = new RegExp(`^${APP_ID_PATTERN}$`);
const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'];

/**
 * Which app a request is for, by its `Host`: `<id>.<appDomain>` is app `<id>` on its own origin;
 * the allowed host names (the gateway's own) carry path links `/apps/<id>/…`; any other host is
 * nobody's. The gateway rewrites `Host` for the sandbox, so this is also what stops DNS rebinding.
 */
export class HostRouting {
  private readonly allowedHosts: Set<string>;

  constructor(
    allowedHosts: string[] = [],
    private readonly appDomain?: string,
  ) {
    this.allowedHosts = new Set([...LOOPBACK_HOSTS, ...allowedHosts].map((h) => h.toLowerCase()));
  }

  /** The app whose own origin the request is for (`<id>.<appDomain>`), if any. */
  appOnHost(req: http.IncomingMessage): string | undefined {
    const domain = this.appDomain;
    if (!domain) return undefined;
    const name = hostName(req.headers.host);
    if (!name.endsWith(`.${domain}`)) return undefined;
    const label = name.slice(0, -domain.length - 1);
    return APP_ID_ONLY.test(label) ? label : undefined;
  }

  /**
   * A request as the rest of the gateway sees it: on an app's own origin its path is that app's
   * (`/x` is `/apps/<id>/x` inside; the app's own absolute `/apps/<id>/…` asset paths pass, and
   * any other app's path is nothing here), else as it came. Undefined: not ours to answer (404).
   */
  inside(req: http.IncomingMessage): string | undefined {
    const url = req.url ?? '/';
    const appId = this.appOnHost(req);
    if (!appId) return this.allowedHosts.has(hostName(req.headers.host)) ? url : undefined;
    if (url === `/apps/${appId}` || url.startsWith(`/apps/${appId}/`) || url.startsWith(`/apps/${appId}?`)) return url;
    if (url === '/apps' || url.startsWith('/apps/')) return undefined;
    return `/apps/${appId}${url.startsWith('/') ? url : `/${url}`}`;
  }

  /**
   * A browser says the request comes from a page of another origin: on an app's own origin,
   * `Origin` names another host than the request's (or is `null`); under path links, where every
   * app shares the gateway's origin, a host that is not one of the gateway's names (a tunnel may
   * rewrite `Host`, so the port is not compared there). No `Origin`: a same-origin read, or no
   * browser at all. The scheme is not compared: behind a TLS proxy the gateway sees http.
   */
  fromOtherOrigin(req: http.IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return false;
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      return true; // "null" (sandboxed frames, data: pages) or garbage
    }
    if (this.appOnHost(req) === undefined) return !this.allowedHosts.has(hostName(host));
    return withoutDefaultPort(host) !== withoutDefaultPort((req.headers.host ?? '').toLowerCase());
  }
}

/** A Host header's name without its port, lowercased ("[::1]" keeps its brackets). */
function hostName(header: string | undefined): string {
  const host = (header ?? '').toLowerCase();
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
}

function withoutDefaultPort(host: string): string {
  return host.replace(/:(80|443)$/, '');
}
