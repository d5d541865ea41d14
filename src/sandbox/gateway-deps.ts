import type http from 'node:http';
import type net from 'node:net';
import type { Logger } from '../core/ports/index.ts';
import type { ClientLimitSettings } from './gateway-limits.ts';
import type { PublishedSite } from './published-site.ts';
import type { ViewerReportLimits } from './viewer-report-route.ts';

/** What the app gateway is given (see AppGateway). */
export interface GatewayDeps {
  /**
   * The origin ("http://127.0.0.1:PORT") of the sandbox serving `appId`, booting or waking it
   * when needed; undefined when there is no such app. Throws RuntimeBusyError when every
   * sandbox slot is in use (the visitor is asked to retry).
   */
  resolve(appId: string): Promise<string | undefined>;
  logger: Pick<Logger, 'warn' | 'error'>;
  /**
   * Redirect to the sandbox instead of proxying (sandboxes with public URLs of their own, e.g.
   * Modal tunnels): the stable link wakes the app, then the browser goes straight to it.
   */
  redirect?: boolean;
  /**
   * Host names (no port) the gateway answers to; anything else gets 421. The gateway rewrites
   * Host for the sandbox, so this is what stops DNS rebinding. Default: the loopback names.
   */
  allowedHosts?: string[];
  /**
   * Apps on origins of their own (VIBE_APP_DOMAIN): the host name under which `<id>.<appDomain>`
   * is app `<id>` (no port), and that app's origin for redirects of path links. Unset: every app
   * lives under `/apps/<id>/` of the gateway's own host.
   */
  appDomain?: string;
  appOrigin?: (appId: string) => string;
  /**
   * Apps' light views served from their published builds in the store (no sandbox); unset, the
   * light view is proxied to the app's sandbox like the creator's view.
   */
  published?: Pick<PublishedSite, 'serve'>;
  /**
   * Shared state (`@vibe/shared`): the WebSocket at `/apps/<id>/__vibe/shared` is handed here,
   * on the light and live views alike, never to a sandbox (src/shared-state/server.ts).
   */
  shared?: { upgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer, appId: string): Promise<void> };
  /** Told the status of every response the gateway sends (metrics). */
  onResponse?: (status: number) => void;
  /** Most client connections open at once (default 1,000). */
  maxConnections?: number;
  /**
   * What one client and one app may hold (defaults from maxConnections: a tenth of it per
   * client, half of it for event streams and WebSockets, 20 of those per client, 200 per app).
   */
  limits?: Partial<ClientLimitSettings>;
  /** Peers (a reverse proxy on this machine) whose `X-Forwarded-For` names the client. */
  trustedProxies?: string[];
  /** How long a sandbox may take to send response headers, or to accept a WebSocket (default 30 s / 10 s). */
  upstreamTimeoutMs?: number;
  upgradeTimeoutMs?: number;
  /**
   * An uncaught error a viewer's browser hit in the app (`POST /apps/<id>/__vibe/errors`, sent
   * by the template's reporter script from one of the app's own origins), already bounded and
   * shape-checked (see ViewerReportRoute). The id only matches the app-id grammar: the app may
   * not exist or be deleted (the callee checks). Never awaited.
   */
  onViewerError?(appId: string, report: { message: string; stack?: string }): void;
  /** Where the app's sandbox serves its pages to viewers (a Modal tunnel): reports from there are the app's too. */
  sandboxOrigin?(appId: string): Promise<string | undefined>;
  /** Error reports accepted per minute from one client, for one app, and from everyone (default 5, 10 and 300); then 429. */
  errorReportLimits?: Partial<ViewerReportLimits>;
  /** How long a report's body may take to arrive (default 5 s): a client trickling bytes is cut off. */
  errorReportTimeoutMs?: number;
  now?: () => number; // the report limits' clock (tests)
}
