import { spawn, type ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import { join, relative, sep } from 'node:path';
import type { Plugin, ViteDevServer } from 'vite';
import { isBuildMessage } from './build-message.ts';
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
      const watcher = new BuildWatcher(opts.root, server, site);
      watcher.start();
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

/** Runs and restarts the `vite build --watch` child, and publishes each build it reports. */
class BuildWatcher {
  private child?: ChildProcess;
  private stopped = false;
  private publishing: Promise<unknown> = Promise.resolve();
  private buildStarted = 0;
  private restarts = 0;

  constructor(
    private readonly root: string,
    private readonly server: ViteDevServer,
    private readonly site: LightSite,
  ) {}

  start(): void {
    const logger = this.server.config.logger;
    const vite = join(this.root, 'node_modules', 'vite', 'bin', 'vite.js');
    const child = spawn(
      process.execPath,
      [vite, 'build', '--watch', '--configLoader', 'runner', '--logLevel', 'warn'],
      {
        cwd: this.root,
        // Production React and no dev-only code paths in what viewers get.
        env: { ...process.env, NODE_ENV: 'production' },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    this.child = child;
    // The creator's hot reload comes first: the rebuild for viewers takes what CPU is left.
    if (child.pid) {
      try {
        setPriority(child.pid, 15);
      } catch {
        // not permitted here (some containers): the build then competes at equal priority
      }
    }
    child.on('message', (m) => {
      if (!isBuildMessage(m)) return;
      if (m.type === 'vibe:build-start') {
        this.buildStarted = Date.now();
        return;
      }
      if (m.type === 'vibe:build-failed') {
        this.publishing = this.publishing.then(() => this.site.failed(m.source, m.message));
        return;
      }
      const files = m.files.map((f) => ({ path: f.path, body: Buffer.from(f.base64, 'base64') }));
      // One swap at a time, in build order.
      this.publishing = this.publishing
        .then(() => this.site.publish(files, m.source))
        .then(
          (version) =>
            logger.info(`light build ${version} live ${Date.now() - this.buildStarted} ms after its build started`, {
              timestamp: true,
            }),
          (err: Error) => logger.error(`light build not published: ${err.message}`, { timestamp: true }),
        );
    });
    child.on('exit', (code, signal) => {
      if (this.stopped) return;
      // A crashed build child must not leave viewers on an old version for good.
      logger.error(`light build watcher exited (${signal ?? code}); restarting`, { timestamp: true });
      if (this.restarts++ < 5) setTimeout(() => !this.stopped && this.start(), 1000 * this.restarts).unref();
    });
  }

  stop(): void {
    this.stopped = true;
    this.child?.kill('SIGTERM');
  }
}
