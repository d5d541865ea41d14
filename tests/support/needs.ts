// One way to say "skip on a laptop without X, fail under CI": `describe.runIf(needs('chromium'))`.
import { existsSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { TEMPLATE_DIR } from '../../src/template.ts';

export const ci = process.env.CI === 'true';

type Need = 'chromium' | 'bwrap' | 'openssl' | 'template';

const BINARIES: Record<Need, string[]> = {
  chromium: ['/usr/bin/chromium'],
  bwrap: ['/usr/bin/bwrap'],
  openssl: ['/usr/bin/openssl', '/usr/local/bin/openssl'],
  template: [join(TEMPLATE_DIR, 'node_modules', 'vite', 'bin', 'vite.js')],
};

/**
 * True when a test needing all of `what` should run: everything is here, or this is CI, where
 * a missing dependency must fail the run rather than skip it. For a service (Redis,
 * PostgreSQL): `describe.runIf(ci || (await reachable(host, port)))`.
 */
export function needs(...what: Need[]): boolean {
  return ci || what.every((n) => BINARIES[n].some((p) => existsSync(p)));
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
