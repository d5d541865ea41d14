import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BotProcess } from '../support/bot-process.ts';
import { eventually } from '../support/eventually.ts';
import { needs } from '../support/needs.ts';

// The admin metrics server of a real bot process (VIBE_METRICS_PORT): Prometheus text that a
// scraper can parse, with the figures of a build that just ran; the app gateway does not serve it.

/** Every line is a comment (# HELP / # TYPE) or a sample `name{labels} value`, as Prometheus's text format says. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const types = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (comment) {
      if (comment[1] === 'TYPE') {
        expect(comment[3]).toMatch(/^(counter|gauge|histogram|summary|untyped)$/);
        types.add(comment[2]!);
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (\S+)( -?\d+)?$/.exec(
      line,
    );
    expect(m, `not a Prometheus sample line: ${line}`).not.toBeNull();
    const value = m![3] === '+Inf' ? Infinity : m![3] === '-Inf' ? -Infinity : Number(m![3]);
    expect(Number.isNaN(value) && m![3] !== 'NaN', line).toBe(false);
    samples.set(`${m![1]}${m![2] ?? ''}`, value);
  }
  expect(types.size).toBeGreaterThan(5);
  return samples;
}

describe.runIf(needs('bwrap'))('metrics for Prometheus', () => {
  let bot: BotProcess;
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vibe-metrics-'));
    bot = new BotProcess({
      VIBE_STORE_URL: `sqlite://${join(dir, 'vibe.sqlite')}`,
      VIBE_PORT: '0',
      VIBE_METRICS_PORT: '0',
      VIBE_BROWSER: 'off',
    });
  });
  afterAll(async () => {
    const code = await bot?.stop();
    rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  it(
    'serves /metrics in Prometheus text on its own port, with builds, checks, sandboxes and gateway requests',
    { timeout: 180_000 },
    async () => {
      bot.send('/vibe a pomodoro timer');
      const live = await bot.waitFor((e) => e.state === 'live' || e.state === 'failed', { timeoutMs: 120_000 });
      expect(live.state, JSON.stringify(live)).toBe('live');
      const logged = bot.stderr.map((l) => {
        try {
          return JSON.parse(l) as { msg?: string; url?: string };
        } catch {
          return {};
        }
      });
      const url = logged.find((l) => l.msg === 'Prometheus metrics are served here')?.url;
      expect(url, bot.stderr.slice(-20).join('\n')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      expect((await fetch(live.url!)).status).toBe(200); // one gateway request

      const res = await fetch(url!);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const m = parsePrometheus(await res.text());
      expect(m.get('vibe_sandboxes_running')).toBe(1);
      expect(m.get('vibe_sandboxes_starting')).toBe(0);
      expect(m.get('vibe_sandboxes_warm')).toBe(1); // the create took the first; another is booted for the next
      expect(m.get('vibe_builds_in_flight')).toBe(0);
      expect(m.get('vibe_builds_queued')).toBe(0);
      expect(m.get('vibe_published_bytes_stored')).toBeGreaterThan(100_000); // the React chunk at least
      expect(m.get('vibe_build_duration_seconds_count{kind="create",outcome="live"}')).toBe(1);
      expect(m.get('vibe_check_duration_seconds_count{check="typecheck"}')).toBeGreaterThanOrEqual(1);
      expect(m.get('vibe_gateway_requests_total{status="200"}')).toBeGreaterThanOrEqual(1);
      expect(m.get('process_resident_memory_bytes')).toBeGreaterThan(0);

      // Not on the app gateway (the origin every app's page runs on), and nothing but GET /metrics on the admin port.
      const gateway = `http://127.0.0.1:${new URL(live.url!).port}`;
      expect((await fetch(`${gateway}/metrics`)).status).toBe(404);
      // On the app's own origin, /metrics is the app's own path, never these figures.
      const onApp = await (await fetch(`${new URL(live.url!).origin}/metrics`)).text();
      expect(onApp).not.toContain('vibe_sandboxes_running');
      expect((await fetch(url!.replace('/metrics', '/'))).status).toBe(404);
      await eventually(async () => (await fetch(url!, { method: 'POST' })).status === 404);
    },
  );
});
