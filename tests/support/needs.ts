// One way to say "skip on a laptop without X, fail under CI": `describe.runIf(needs('chromium'))`.
import { existsSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { TEMPLATE_DIR } from '../../src/template.ts';

export const ci = process.env.CI === 'true';

export type Need = 'chromium' | 'bwrap' | 'openssl' | 'template' | 'redis' | 'postgres';

const BINARIES: Record<'chromium' | 'bwrap' | 'openssl' | 'template', string[]> = {
  chromium: ['/usr/bin/chromium'],
  bwrap: ['/usr/bin/bwrap'],
  openssl: ['/usr/bin/openssl', '/usr/local/bin/openssl'],
  template: [join(TEMPLATE_DIR, 'node_modules', 'vite', 'bin', 'vite.js')],
};
const SERVICES: Record<'redis' | 'postgres', { host: string; port: number }> = {
  redis: { host: '127.0.0.1', port: 6379 },
  postgres: { host: '127.0.0.1', port: 5432 },
};

/** Whether this machine has `need` (a service: something answers on its port). */
export async function has(need: Need): Promise<boolean> {
  if (need === 'redis' || need === 'postgres') return reachable(SERVICES[need].host, SERVICES[need].port);
  return BINARIES[need].some((p) => existsSync(p));
}

/**
 * True when a test needing all of `what` should run: everything is here, or this is CI, where
 * a missing dependency must fail the run rather than skip it. Binaries only (synchronous);
 * for services use `needsService`.
 */
export function needs(...what: Exclude<Need, 'redis' | 'postgres'>[]): boolean {
  return ci || what.every((n) => BINARIES[n].some((p) => existsSync(p)));
}

/** `needs` for a service that must answer on loopback. */
export async function needsService(what: 'redis' | 'postgres'): Promise<boolean> {
  return ci || (await has(what));
}

/** True when something accepts a TCP connection at host:port within `ms`. */
export function reachable(host: string, port: number, ms = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(ms, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
