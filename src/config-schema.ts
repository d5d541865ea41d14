import { existsSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_PRICES, parsePrices } from './core/limits/prices.ts';

/** "90s", "10m", "1h", "500ms" or a bare number of seconds -> milliseconds. */
export function parseDuration(raw: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(raw);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit] ?? 1000;
  return Math.round(n * factor);
}

const duration = (fallback: string, max?: { ms: number; label: string }) =>
  z
    .string()
    .default(fallback)
    .transform((s, ctx) => {
      const ms = parseDuration(s);
      if (ms === undefined || ms <= 0) {
        ctx.addIssue({ code: 'custom', message: `"${s}" is not a duration (examples: 90s, 10m, 1h)` });
        return z.NEVER;
      }
      if (max && ms > max.ms) {
        ctx.addIssue({ code: 'custom', message: `"${s}" is longer than ${max.label}` });
        return z.NEVER;
      }
      return ms;
    });

const int = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);
/** A whole number, or unset (empty counts as unset): limits that are off unless a team sets them. */
const optionalInt = (min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((s) => (s && s.trim() !== '' ? Number(s) : undefined))
    .pipe(z.number().int().min(min).max(max).optional());
const optionalText = z
  .string()
  .optional()
  .transform((s) => (s && s.trim() !== '' ? s.trim() : undefined));

/**
 * Every setting the bot reads, with its default. docs/settings.md's table is generated from
 * `settingsDoc` (config.ts).
 */
export const configSchema = z
  .object({
    ANTHROPIC_API_KEY: optionalText,
    ANTHROPIC_BASE_URL: z.url().optional(),
    // Unset: the pinned default, or the newest Sonnet-class model (checked at start-up, src/llm/model-check.ts).
    VIBE_MODEL: optionalText,
    VIBE_STORE_URL: z
      .string()
      .default('sqlite://./data/vibe.sqlite')
      .refine((s) => /^(sqlite|redis|rediss|postgres|postgresql|memory):/.test(s), {
        message: 'must start with sqlite://, redis://, rediss://, postgres:// or memory://',
      }),
    VIBE_SANDBOX: z.enum(['local', 'modal']).optional(),
    VIBE_APPS_DIR: z.string().min(1).default('./data/apps'),
    VIBE_DATA_DIR: z.string().min(1).default('./data'),
    VIBE_ISOLATION: z.enum(['auto', 'bwrap', 'none']).default('auto'),
    VIBE_IDLE_TIMEOUT: duration('10m'),
    VIBE_MAX_RUNNING: int(8, 1, 1000),
    // Unset: 1 for local sandboxes, 0 on Modal (app.ts).
    VIBE_WARM_SANDBOXES: optionalInt(0, 16),
    VIBE_HOST: z.string().min(1).default('127.0.0.1'),
    VIBE_PORT: int(8787, 0, 65535),
    VIBE_PUBLIC_URL: z.url().optional(),
    VIBE_APP_DOMAIN: optionalText.refine(
      (s) =>
        s === undefined ||
        s === 'none' ||
        /^(?=.{1,200}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/.test(s),
      'must be a host name, optionally with a port (e.g. localhost, apps.example.com, localhost:8787), or none',
    ),
    VIBE_BROWSER: z.string().min(1).default('auto'),
    VIBE_BROWSER_ARGS: optionalText,
    VIBE_METRICS_PORT: optionalInt(0, 65535),
    VIBE_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
    VIBE_USER_BUILDS_PER_HOUR: int(20, 0, 1_000_000),
    VIBE_USER_DAILY_TOKENS: int(300_000, 0, 1e12),
    VIBE_CHANNEL_DAILY_TOKENS: optionalInt(0, 1e12),
    VIBE_TEAM_DAILY_TOKENS: optionalInt(0, 1e12),
    VIBE_CHANNEL_MAX_APPS: optionalInt(0, 1_000_000),
    VIBE_MAX_CONCURRENT_BUILDS: int(4, 1, 1000),
    VIBE_TURN_MAX_OUTPUT_TOKENS: int(60_000, 2048, 10_000_000),
    VIBE_ALLOWED_TEAMS: optionalText.transform((s) => s?.split(/[\s,]+/).filter(Boolean)),
    VIBE_PRICES: z
      .string()
      .default(DEFAULT_PRICES)
      .transform((s, ctx) => {
        const table = parsePrices(s);
        if (!table) {
          ctx.addIssue({
            code: 'custom',
            message: 'use model=input/output dollars per million tokens, comma-separated',
          });
          return z.NEVER;
        }
        return table;
      }),
    LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    SLACK_BOT_TOKEN: optionalText.refine(
      (s) => s === undefined || s.startsWith('xoxb-'),
      'must be a bot token (xoxb-…)',
    ),
    SLACK_SIGNING_SECRET: optionalText,
    SLACK_APP_TOKEN: optionalText.refine(
      (s) => s === undefined || s.startsWith('xapp-'),
      'must be an app-level token (xapp-…)',
    ),
    SLACK_API_URL: z.url().optional(),
    PORT: int(3000, 0, 65535),
    DISCORD_TOKEN: optionalText,
    DISCORD_APPLICATION_ID: optionalText.refine(
      (s) => s === undefined || /^\d{5,25}$/.test(s),
      'must be the numeric application id',
    ),
    DISCORD_GUILD_ID: optionalText.refine(
      (s) => s === undefined || /^\d{5,25}$/.test(s),
      'must be a numeric server (guild) id',
    ),
    DISCORD_API_URL: z.url().optional(),
    MODAL_TOKEN_ID: optionalText,
    MODAL_TOKEN_SECRET: optionalText,
    VIBE_MODAL_APP: z.string().min(1).default('vibe-bot'),
    VIBE_MODAL_IMAGE: z.string().min(1).default('vibe-sandbox-template'),
    // Modal's own ceiling for a sandbox's lifetime.
    VIBE_SANDBOX_TIMEOUT: duration('1h', { ms: 24 * 3_600_000, label: "24h, Modal's limit" }),
    VIBE_SANDBOX_BOOT_TIMEOUT: duration('3m', { ms: 30 * 60_000, label: '30m' }),
    VIBE_SANDBOX_CPU: z.coerce.number().positive().max(64).default(1),
    VIBE_SANDBOX_MEMORY: int(1024, 128, 65536),
    VIBE_SANDBOX_PIDS: int(256, 32, 65536),
    VIBE_SANDBOX_CPU_SECONDS: int(1800, 10, 10_000_000),
  })
  .superRefine((c, ctx) => {
    if (c.VIBE_BROWSER !== 'auto' && c.VIBE_BROWSER !== 'off' && !existsSync(c.VIBE_BROWSER))
      ctx.addIssue({
        code: 'custom',
        path: ['VIBE_BROWSER'],
        message: 'no such file: give the path of a Chromium or Chrome executable, `auto` or `off`',
      });
    if (Boolean(c.MODAL_TOKEN_ID) !== Boolean(c.MODAL_TOKEN_SECRET))
      ctx.addIssue({
        code: 'custom',
        path: [c.MODAL_TOKEN_ID ? 'MODAL_TOKEN_SECRET' : 'MODAL_TOKEN_ID'],
        message: 'set both MODAL_TOKEN_ID and MODAL_TOKEN_SECRET (modal token new)',
      });
    if (c.VIBE_SANDBOX === 'modal' && !c.MODAL_TOKEN_ID)
      ctx.addIssue({
        code: 'custom',
        path: ['VIBE_SANDBOX'],
        message: 'modal needs MODAL_TOKEN_ID and MODAL_TOKEN_SECRET',
      });
    // Slack needs its bot token and one way to receive events; half a setup is a mistake, not "off".
    if (c.SLACK_BOT_TOKEN && !c.SLACK_APP_TOKEN && !c.SLACK_SIGNING_SECRET)
      ctx.addIssue({
        code: 'custom',
        path: ['SLACK_SIGNING_SECRET'],
        message: 'set it (HTTP mode) or SLACK_APP_TOKEN (Socket Mode) to go with SLACK_BOT_TOKEN',
      });
    if (!c.SLACK_BOT_TOKEN && (c.SLACK_APP_TOKEN || c.SLACK_SIGNING_SECRET))
      ctx.addIssue({
        code: 'custom',
        path: ['SLACK_BOT_TOKEN'],
        message: 'is required when SLACK_APP_TOKEN or SLACK_SIGNING_SECRET is set',
      });
  });
