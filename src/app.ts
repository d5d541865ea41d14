import { ConfigError, type Config } from './config.ts';
import { AppLinks } from './core/apps/app-links.ts';
import { AppRuntime } from './core/apps/app-runtime.ts';
import { VibeBot } from './core/bot.ts';
import type { AppStore, BuildManifest, CodeModel, Logger, SandboxProvider } from './core/ports/index.ts';
import { Publisher } from './core/apps/publisher.ts';
import { AppLeases } from './core/apps/app-lease.ts';
import { BuildJournal } from './core/apps/build-journal.ts';
import { AppGateway } from './sandbox/gateway.ts';
import { PublishedSite } from './sandbox/published-site.ts';
import { LocalSandboxProvider } from './sandbox/local.ts';
import { TEMPLATE_DIR } from './template.ts';
import { redactUrl } from './redact-url.ts';
import { openAppStore } from './store/open.ts';
import { BuildSlots } from './core/limits/build-slots.ts';
import { fairUsePolicies } from './core/limits/fair-use.ts';
import { UsageMeter } from './core/limits/usage-meter.ts';
import { PrometheusMetrics } from './metrics/prometheus.ts';
import { AppZipPacker } from './export/app-zip.ts';
import { appDomainOf, appOriginFor, fairUseLimits, onLoopback, publicGateway } from './app-settings.ts';
import { checkBrowser, chooseModel, chooseSandbox } from './app-backends.ts';
import { startRecovering, stopOrphanSandboxes } from './app-recovery.ts';
import { SharedStateServer } from './shared-state/server.ts';
import { sharedOriginPolicy } from './shared-state/origin-policy.ts';

/** The running bot minus its chat adapters: what main.ts, the tests and the bench all build. */
export interface VibeApp {
  bot: VibeBot;
  store: AppStore;
  model: CodeModel;
  sandbox: SandboxProvider;
  runtime: AppRuntime;
  /** Stores each version's build for viewers (the bench times it). */
  publisher: Publisher;
  gateway: AppGateway;
  /** Apps' shared state (`@vibe/shared`): its WebSockets on the gateway, kept in the store. */
  shared: SharedStateServer;
  /** Base of the links the bot posts, e.g. http://127.0.0.1:8787 */
  publicUrl: string;
  /** What app links look like, for the start-up message: "http://<id>.localhost:8787/" or "…/apps/<id>/". */
  linkPattern: string;
  /** Where Prometheus scrapes (VIBE_METRICS_PORT), when set. */
  metricsUrl?: string;
  close(): Promise<void>;
}

export interface BuildOverrides {
  model?: CodeModel;
  statusIntervalMs?: number;
  /**
   * Many people prompt this bot (Slack, Discord): local sandboxes without working isolation
   * refuse to start unless VIBE_ISOLATION=none says the risk is accepted.
   */
  shared?: boolean;
}

/** Why a shared bot will not run local sandboxes unisolated, and the three ways forward. */
export const ISOLATION_REQUIRED =
  "Local sandboxes need bubblewrap when the bot is on Slack or Discord: every app is code a model wrote from a stranger's words, and without isolation it runs with the bot's own rights. " +
  'Install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap), or run sandboxes on Modal (MODAL_TOKEN_ID and MODAL_TOKEN_SECRET), or set VIBE_ISOLATION=none to accept the risk.';

/** Composition root: config -> store, model, sandboxes, gateway -> core. */
export async function buildVibeApp(config: Config, logger: Logger, overrides: BuildOverrides = {}): Promise<VibeApp> {
  // The model first: its start-up check may refuse to start (a retired VIBE_MODEL) before anything is opened.
  const model = overrides.model ?? (await chooseModel(config, logger));
  const store = await openAppStore(config.VIBE_STORE_URL, { logger });
  const modal = config.VIBE_SANDBOX === 'modal';
  const sandbox = chooseSandbox(config, logger);
  const local = sandbox instanceof LocalSandboxProvider ? sandbox : undefined;
  if (overrides.shared && local && config.VIBE_ISOLATION !== 'none' && !local.isIsolated()) {
    await store.close();
    throw new ConfigError(ISOLATION_REQUIRED);
  }
  // Made once the gateway's address (the links' base) is known; the gateway only calls it after that.
  let runtime!: AppRuntime;
  // Set once the bot exists: a viewer's error report before that is dropped.
  let viewerError: VibeBot['viewerError'] | undefined;
  const journal = new BuildJournal(store, logger);
  await stopOrphanSandboxes(sandbox, store, journal);
  let metrics: PrometheusMetrics | undefined; // made once the runtime it reads exists
  const appDomain = appDomainOf(config);
  // Light views come from the store. Not for Modal sandboxes under path links: they build for
  // the root of their tunnel (VIBE_BASE=/), which only an app's own origin maps.
  let publishLatest: ((appId: string) => Promise<BuildManifest | undefined>) | undefined;
  const site =
    modal && !appDomain
      ? undefined
      : new PublishedSite({
          store,
          logger,
          publishLatest: (appId) => publishLatest?.(appId) ?? Promise.resolve(undefined),
        });
  // The names links use; requests for any other Host (DNS rebinding) are refused.
  const allowedHosts = [
    config.VIBE_HOST.includes(':') ? `[${config.VIBE_HOST}]` : config.VIBE_HOST,
    ...(config.VIBE_PUBLIC_URL ? [new URL(config.VIBE_PUBLIC_URL).hostname] : []),
  ];
  // shared state (`@vibe/shared`): served by the gateway for existing apps, to their own pages only.
  const shared = new SharedStateServer({
    log: store.shared,
    logger,
    appExists: async (appId) => {
      const app = await store.getApp(appId);
      return Boolean(app && !app.deleted && app.latestVersion > 0);
    },
    originAllowed: sharedOriginPolicy({
      appDomain: appDomain?.split(':')[0],
      gatewayHosts: ['127.0.0.1', 'localhost', '[::1]', ...allowedHosts],
      sandboxUrl: async (appId) => (await store.getApp(appId))?.sandboxUrl,
    }),
  });
  const gateway = new AppGateway({
    logger,
    allowedHosts,
    shared,
    // Local sandboxes are proxied; a Modal sandbox has its own https tunnel, so the link redirects there.
    redirect: modal,
    // A gateway on loopback with a public URL is reached through a proxy or tunnel on this machine:
    // its X-Forwarded-For names the client the per-client limits count.
    ...(onLoopback(config) && config.VIBE_PUBLIC_URL ? { trustedProxies: ['127.0.0.1', '::1'] } : {}),
    onViewerError: (appId, report) => void viewerError?.(appId, report),
    // A Modal tunnel's pages post their reports here from the tunnel's origin (a local
    // sandbox's pages are only ever opened through the gateway).
    ...(modal
      ? {
          sandboxOrigin: async (appId: string) => {
            const url = (await store.getApp(appId))?.sandboxUrl;
            return url ? new URL(url).origin : undefined;
          },
        }
      : {}),
    onResponse: (status) => metrics?.gatewayResponse(status),
    ...(site ? { published: site } : {}),
    ...(appDomain ? { appDomain: appDomain.split(':')[0]!, appOrigin: (appId: string) => appOrigin!(appId) } : {}),
    resolve: async (appId) => {
      if (!runtime) return undefined; // not serving yet
      // Every asset request comes through here: a running app answers from memory, and the
      // store is read only to wake one (delete marks the app deleted, then stops it; a wake
      // under way checks again before it serves). A wake never queues: when every sandbox is
      // held by a build, the visitor gets a "busy, retry" page (RuntimeBusyError).
      if (!runtime.isRunning(appId)) {
        const app = await store.getApp(appId);
        if (!app || app.deleted || app.latestVersion === 0) return undefined;
      }
      const handle = await runtime.ensure(appId, { wait: false });
      return modal ? handle.url : new URL(handle.url).origin;
    },
  });
  let publicUrl = '';
  let appOrigin: ((appId: string) => string) | undefined;
  try {
    const { port, host } = await gateway.listen(config.VIBE_PORT, config.VIBE_HOST);
    appOrigin = appDomain ? appOriginFor(appDomain, config, port) : undefined;
    publicUrl = (config.VIBE_PUBLIC_URL ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`).replace(
      /\/+$/,
      '',
    );
  } catch (err) {
    await shared.close();
    await store.close();
    throw err;
  }
  // Local: the gateway is the link. Modal: the gateway's stable link when people can reach it
  // (a public VIBE_PUBLIC_URL: it wakes the app and redirects to the current tunnel); otherwise
  // the live tunnel itself, which changes when the app sleeps (the card says so).
  const links = new AppLinks({
    base: publicUrl,
    preferSandboxUrl: modal && !publicGateway(config),
    ...(appOrigin ? { appOrigin } : {}),
  });
  const browser = checkBrowser(config, logger);
  const warm = config.VIBE_WARM_SANDBOXES ?? (modal ? 0 : 1);
  runtime = new AppRuntime({
    provider: sandbox,
    store,
    logger,
    idleMs: config.VIBE_IDLE_TIMEOUT,
    maxRunning: config.VIBE_MAX_RUNNING,
    warm,
    links,
    browser,
    scratch: (appId) => shared.scratch(appId),
  });
  runtime.startSweeper();
  // Where sandboxes are kept warm for new apps, so is the check browser (not started by the first check).
  if (warm > 0) void browser?.warm?.();
  const limits = fairUseLimits(config);
  const meter = new UsageMeter(store, config.VIBE_PRICES);
  const slots = new BuildSlots(config.VIBE_MAX_CONCURRENT_BUILDS);
  const running = runtime;
  metrics =
    config.VIBE_METRICS_PORT === undefined
      ? undefined
      : new PrometheusMetrics({
          sandboxesRunning: () => running.counts().running,
          sandboxesStarting: () => running.counts().starting,
          sandboxesWarm: () => running.counts().warm,
          buildsRunning: () => slots.busy,
          buildsQueued: () => slots.queued,
          publishedBytes: () => store.blobs.storedBytes(),
        });
  const scrape = await metrics?.listen(config.VIBE_METRICS_PORT!, config.VIBE_METRICS_HOST).catch(async (err) => {
    // A port in use: nothing this function started may outlive the error.
    await gateway.close();
    await shared.close();
    await running.stopAll();
    await browser?.close();
    await store.close();
    throw err;
  });
  if (scrape) logger.info({ url: scrape.url }, 'Prometheus metrics are served here');
  const publisher = new Publisher({ store, runtime, logger });
  publisher.onPublished((appId, version) => site?.announce(appId, version));
  const bot = new VibeBot({
    store,
    model,
    runtime,
    logger,
    publisher,
    leases: new AppLeases(store, logger),
    journal,
    statusIntervalMs: overrides.statusIntervalMs,
    policies: fairUsePolicies({ store, meter, limits }),
    slots,
    meter,
    packer: new AppZipPacker(TEMPLATE_DIR),
    shared,
    ...(metrics ? { metrics: metrics.bot } : {}),
    limits: {
      ...limits,
      maxConcurrentBuilds: config.VIBE_MAX_CONCURRENT_BUILDS,
      ...(model.offline ? {} : { turnMaxOutputTokens: config.VIBE_TURN_MAX_OUTPUT_TOKENS }),
    },
  });
  viewerError = (appId, report) => bot.viewerError(appId, report);
  await journal.start();
  const stopRecovering = startRecovering(bot, sandbox, logger);
  publishLatest = (appId) => bot.publishLatest(appId);
  logger.info(
    { model: model.label, store: redactUrl(config.VIBE_STORE_URL), links: publicUrl },
    model.offline
      ? 'using the offline sample model (no ANTHROPIC_API_KEY): apps come from built-in samples and cannot be edited'
      : `using Claude (${model.label})`,
  );
  return {
    bot,
    store,
    model,
    sandbox,
    runtime,
    publisher,
    gateway,
    shared,
    publicUrl,
    linkPattern: links.forApp('<id>').open,
    ...(scrape ? { metricsUrl: scrape.url } : {}),
    async close() {
      await stopRecovering();
      await bot.idle();
      await journal.stop().catch((err: unknown) => logger.warn({ err }, 'could not leave the list of bot processes'));
      site?.close();
      await gateway.close();
      await shared.close(); // after the gateway: no new page; open documents stored compacted
      await scrape?.close();
      await runtime.stopAll();
      await browser?.close();
      await store.close();
    },
  };
}
