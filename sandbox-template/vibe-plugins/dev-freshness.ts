import type { Plugin } from 'vite';
import { readSourceHash } from './source-hash.ts';

/**
 * The creator's live view must never stay on code it missed. A page that loads while the bot is
 * writing can fetch the old modules and connect its hot-reload socket only after the new files'
 * update went out (Vite does not resend it): it would show the old app, or "Starting your app…",
 * until reloaded by hand. So every dev page says which source it was served from once its socket
 * is up, and is told to reload when src/ has changed since.
 */
export function devFreshness(root: string): Plugin {
  const current = (): string | undefined => {
    try {
      return readSourceHash(root);
    } catch {
      return undefined; // src/ is being rewritten: that write's own update follows
    }
  };
  return {
    name: 'vibe:dev-freshness',
    apply: 'serve',
    configureServer(server) {
      // One answer per page: the page runs the app's code, and each question hashes all of src/.
      const asked = new WeakSet<object>();
      server.ws.on('vibe:served', (served: unknown, client) => {
        if (asked.has(client)) return;
        asked.add(client);
        const now = current();
        if (typeof served === 'string' && now !== undefined && served !== now)
          client.send({ type: 'full-reload', path: '*' });
      });
    },
    transformIndexHtml: {
      order: 'pre',
      handler() {
        const served = current();
        if (served === undefined) return [];
        // Queued by Vite's client until its socket is open, so it cannot be missed.
        const children = `if (import.meta.hot) import.meta.hot.send('vibe:served', ${JSON.stringify(served)});`;
        return [{ tag: 'script', attrs: { type: 'module' }, children, injectTo: 'head' }];
      },
    },
  };
}
