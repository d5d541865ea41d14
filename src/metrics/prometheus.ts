import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BotMetrics, TokenUsage } from '../core/ports/index.ts';

/** What the gauges read at scrape time. */
export interface MetricsSources {
  sandboxesRunning(): number;
  sandboxesStarting(): number;
  sandboxesWarm(): number;
  buildsRunning(): number;
  buildsQueued(): number;
  /** Bytes of published builds in the store (shared by every bot process on it). */
  publishedBytes(): Promise<number>;
}

/**
 * The bot's Prometheus metrics (prom-client), in a registry of its own: what the core reports as
 * it happens (`bot`), the gateway's responses (`gatewayResponse`), and gauges read at scrape time.
 */
export class PrometheusMetrics {
  readonly registry = new Registry();
  readonly bot: BotMetrics;
  private readonly requests: Counter<'status'>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    gauge('vibe_sandboxes_running', "Apps' sandboxes running now.", () => sources.sandboxesRunning());
    gauge('vibe_sandboxes_starting', "Apps' sandboxes being started now.", () => sources.sandboxesStarting());
    gauge('vibe_sandboxes_warm', 'Warm sandboxes booted or booting for the next new apps.', () =>
      sources.sandboxesWarm(),
    );
    gauge('vibe_builds_in_flight', 'Builds (model turns with their checks) running now.', () =>
      sources.buildsRunning(),
    );
    gauge('vibe_builds_queued', 'Builds waiting for a build slot (VIBE_MAX_CONCURRENT_BUILDS).', () =>
      sources.buildsQueued(),
    );
    new Gauge({
      name: 'vibe_published_bytes_stored',
      help: "Bytes of apps' published builds in the store, each shared file counted once (all variants).",
      registers,
      async collect() {
        this.set(await sources.publishedBytes());
      },
    });
    const builds = new Histogram({
      name: 'vibe_build_duration_seconds',
      help: 'Time from a build getting its slot to its end, by kind and outcome.',
      labelNames: ['kind', 'outcome'] as const,
      buckets: [5, 10, 20, 30, 60, 90, 120, 180, 300, 600],
      registers,
    });
    const checks = new Histogram({
      name: 'vibe_check_duration_seconds',
      help: 'One check of a build: the type check in the sandbox, or the page load in the browser.',
      labelNames: ['check'] as const,
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30],
      registers,
    });
    const tokens = new Counter({
      name: 'vibe_model_tokens_total',
      help: 'Model tokens used, by kind (input, output, cache_read, cache_write).',
      labelNames: ['kind'] as const,
      registers,
    });
    this.requests = new Counter({
      name: 'vibe_gateway_requests_total',
      help: 'Requests the app gateway answered, by HTTP status.',
      labelNames: ['status'] as const,
      registers,
    });
    this.bot = {
      buildFinished: (kind, outcome, seconds) => builds.observe({ kind, outcome }, seconds),
      checkFinished: (check, seconds) => checks.observe({ check }, seconds),
      tokensUsed: (u: TokenUsage) => {
        const add = (kind: string, n: number) => n > 0 && tokens.inc({ kind }, n);
        add('input', u.inputTokens);
        add('output', u.outputTokens);
        add('cache_read', u.cacheReadTokens);
        add('cache_write', u.cacheWriteTokens);
      },
    };
  }

  gatewayResponse(status: number): void {
    this.requests.inc({ status: String(status) });
  }

  /**
   * Serves `GET /metrics` on an admin address of its own (VIBE_METRICS_PORT), never on the app
   * gateway: no app's page can reach it as its own origin.
   */
  async listen(port: number, host: string): Promise<{ url: string; close(): Promise<void> }> {
    const server = http.createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics')
        return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const addr = server.address() as AddressInfo;
    const shown = host.includes(':') ? `[${host}]` : host;
    return {
      url: `http://${shown}:${addr.port}/metrics`,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }
}
