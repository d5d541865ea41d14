import { join, relative, sep } from 'node:path';
import type { Plugin } from 'vite';
import { BuildWatcher } from './build-watcher.ts';
import { devCompression } from './dev-compression.ts';
import { LightSite } from './light-site.ts';

export interface LightViewOptions {
  /** VIBE_BASE: the light view's path; the dev server lives at `${base}dev/`. */
  base: string;
  /** The app dir (Vite's root). */
  root: string;
}

/**
 * One process, two audiences. The dev server (HMR, for the app's creator) sits under
 * `${base}dev/`; everything else under `${base}` is the latest production build, made by a
 * `vite build --watch` child with NODE_ENV=production and swapped in whole (see LightSite).
 * The build child is this process's own child, so stopping the sandbox stops it too.
 */
export function lightView(opts: LightViewOptions): Plugin {
  const devBase = `${opts.base}dev/`;
  return {
    name: 'vibe:light-view',
    apply: 'serve',
    configureServer(server) {
      const site = new LightSite(opts.base);
      const watcher = new BuildWatcher({
        root: opts.root,
        logger: server.config.logger,
        site,
        script: join(opts.root, 'node_modules', 'vite', 'bin', 'vite.js'),
      });
      watcher.start();
      site.onStall = (source) => watcher.nudge(source);
      server.httpServer?.once('close', () => {
        watcher.stop();
        site.close();
      });
      // Runs before Vite's own middleware (configureServer's direct `use`).
      server.middlewares.use((req, res, next) => {
        const path = (req.url ?? '/').split('?')[0]!;
        if (!path.startsWith(opts.base) || path.startsWith(devBase)) return next();
        if (path === devBase.slice(0, -1)) {
          res.writeHead(302, { Location: devBase });
          return res.end();
        }
        if (req.method !== 'GET' && req.method !== 'HEAD') return next();
        site.serve(req, res, path.slice(opts.base.length)).catch(next);
      });
      // Vite serves its cache under the base when it lies inside the root, else through /@fs/.
      const rel = relative(opts.root, server.config.cacheDir).split(sep).join('/');
      const cache = rel.startsWith('..') ? `@fs${server.config.cacheDir}` : rel;
      const stripMapsUnder = [
        `${devBase}${cache}/deps/`,
        `${devBase}node_modules/`,
        `${devBase}@fs/`,
        `${devBase}@vite/`,
      ];
      server.middlewares.use(devCompression({ prefix: devBase, stripMapsUnder }));
    },
  };
}
