import type http from 'node:http';
import net from 'node:net';

/** What one client (a remote address, an IPv6 /64) and one app may hold of the gateway. */
export interface ClientLimitSettings {
  /** Connections one client may have open at once; more are dropped as they arrive. */
  perClientConnections: number;
  /** Long-lived requests (event streams, WebSockets) open at once, in all: the rest is kept for page loads. */
  streams: number;
  streamsPerClient: number;
  streamsPerApp: number;
}

/** The defaults for a gateway of `maxConnections`: a tenth per client, half for streams, 20 a client, 200 an app. */
export function defaultLimits(maxConnections: number): ClientLimitSettings {
  return {
    perClientConnections: Math.max(1, Math.floor(maxConnections / 10)),
    streams: Math.max(1, Math.floor(maxConnections / 2)),
    streamsPerClient: 20,
    streamsPerApp: 200,
  };
}

/**
 * Counts who holds what, so no one client (or app) can fill the gateway's connection cap: each
 * connection is counted to its client until it closes, each long-lived request to its client and
 * its app until it ends. A peer in `trustedProxies` (a reverse proxy on this machine) carries many
 * clients: its connections are not capped, and its requests count to the client it names.
 */
export class ClientLimits {
  private readonly connections = new Map<string, number>();
  private readonly clientStreams = new Map<string, number>();
  private readonly appStreams = new Map<string, number>();
  private streams = 0;
  private readonly trusted: Set<string>;

  constructor(
    private readonly settings: ClientLimitSettings,
    trustedProxies: string[] = [],
  ) {
    this.trusted = new Set(trustedProxies.map(plainAddress));
  }

  /** A new connection: false when its client already holds its share (the caller drops it). */
  admit(socket: net.Socket): boolean {
    const peer = plainAddress(socket.remoteAddress ?? '');
    if (this.trusted.has(peer)) return true;
    const key = clientKey(peer);
    if (!take(this.connections, key, this.settings.perClientConnections)) return false;
    socket.once('close', () => give(this.connections, key));
    return true;
  }

  /**
   * A place for a long-lived request of app `appId`, or undefined when its client, its app or
   * the gateway has no more. The returned function gives it back (once; later calls do nothing).
   */
  takeStream(req: http.IncomingMessage, appId: string): (() => void) | undefined {
    if (this.streams >= this.settings.streams) return undefined;
    const client = this.clientOf(req);
    if (!take(this.clientStreams, client, this.settings.streamsPerClient)) return undefined;
    if (!take(this.appStreams, appId, this.settings.streamsPerApp)) {
      give(this.clientStreams, client);
      return undefined;
    }
    this.streams++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.streams--;
      give(this.clientStreams, client);
      give(this.appStreams, appId);
    };
  }

  /** The client of a request: its peer, or for a trusted proxy the nearest untrusted X-Forwarded-For hop. */
  clientOf(req: http.IncomingMessage): string {
    const peer = plainAddress(req.socket.remoteAddress ?? '');
    if (!this.trusted.has(peer)) return clientKey(peer);
    const hops = String(req.headers['x-forwarded-for'] ?? '')
      .split(',')
      .map((h) => plainAddress(h.trim()))
      .filter((h) => net.isIP(h) !== 0);
    for (let i = hops.length - 1; i >= 0; i--) if (!this.trusted.has(hops[i]!)) return clientKey(hops[i]!);
    return clientKey(peer);
  }
}

/**
 * The unit a limit counts: an IPv4 address, or the /64 of an IPv6 one (one subscriber usually
 * has a whole /64, so counting single addresses would be no limit at all).
 */
export function clientKey(address: string): string {
  const a = plainAddress(address);
  if (net.isIPv4(a) || !net.isIPv6(a)) return a;
  const [head = '', tail] = a.split('::');
  const groups = (s: string) => (s ? s.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])) : []);
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${all
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

/** An address without an IPv4-mapped prefix (`::ffff:1.2.3.4`) or an IPv6 zone, lowercased. */
function plainAddress(address: string): string {
  const a = address.toLowerCase().split('%')[0]!;
  return a.startsWith('::ffff:') && net.isIPv4(a.slice(7)) ? a.slice(7) : a;
}

function take(counts: Map<string, number>, key: string, max: number): boolean {
  const n = counts.get(key) ?? 0;
  if (n >= max) return false;
  counts.set(key, n + 1);
  return true;
}

function give(counts: Map<string, number>, key: string): void {
  const n = (counts.get(key) ?? 1) - 1;
  if (n <= 0) counts.delete(key);
  else counts.set(key, n);
}
