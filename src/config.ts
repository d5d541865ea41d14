import { existsSync, readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import type { z } from 'zod';
import { configSchema } from './config-schema.ts';
import { DEFAULT_PRICES } from './core/limits/prices.ts';
import { redactUrl } from './redact-url.ts';

/** The settings, with VIBE_SANDBOX resolved: Modal when its tokens are set, else local. */
export type Config = Omit<z.infer<typeof configSchema>, 'VIBE_SANDBOX'> & { VIBE_SANDBOX: 'local' | 'modal' };

/**
 * docs/settings.md's table, row by row (its default as shown, and what it means): the one place
 * the descriptions live. `npm run docs:settings` writes the table into docs/settings.md, and a test
 * checks that it is there as generated; a setting without a row here does not compile.
 */
export const settingsDoc: Record<keyof Config, { default: string; meaning: string }> = {
  ANTHROPIC_API_KEY: {
    default: '(unset)',
    meaning: 'Claude API key. Unset: the offline sample model answers (no edits).',
  },
  ANTHROPIC_BASE_URL: { default: '(unset)', meaning: 'Messages API base URL (proxies, tests).' },
  VIBE_MODEL: {
    default: '(unset: `claude-sonnet-4-6` when the key can use it, else the newest Sonnet-class model)',
    meaning:
      'Claude model that writes the apps. Checked at start-up against the Models API: a model the key cannot use stops the bot with the list it could use; an unreachable Models API only warns.',
  },
  VIBE_STORE_URL: {
    default: '`sqlite://./data/vibe.sqlite`',
    meaning: 'Where apps and versions live: `sqlite://FILE`, `redis://…`, `postgres://…`, `memory://`.',
  },
  VIBE_SANDBOX: {
    default: '`local`, or `modal` when Modal tokens are set',
    meaning: 'Sandbox host: `local` (Vite processes on this machine) or `modal`.',
  },
  VIBE_APPS_DIR: {
    default: '`./data/apps`',
    meaning:
      'Working folders of unisolated local sandboxes (`VIBE_ISOLATION=none`; a cache, the store is the truth). Isolated sandboxes write nothing to disk.',
  },
  VIBE_DATA_DIR: {
    default: '`./data`',
    meaning: "The terminal chat's files: its log (`vibe.log`) and the apps' screenshots (`screenshots/`).",
  },
  VIBE_ISOLATION: {
    default: '`auto`',
    meaning:
      'Local sandboxes: `auto` (bubblewrap when it works here), `bwrap` (required), `none` (no isolation: accept the risk). On Slack or Discord, `auto` without a working bubblewrap refuses to start.',
  },
  VIBE_IDLE_TIMEOUT: {
    default: '`10m`',
    meaning:
      "A sandbox nobody used for this long is stopped; the next visit wakes it (`90s`, `10m`, `1h`). On Modal also the sandbox's `idleTimeoutMs`.",
  },
  VIBE_MAX_RUNNING: {
    default: '`8`',
    meaning:
      'At most this many sandboxes start, run or stop at once; to make room the longest-idle one nobody is building is stopped; when all are busy a build waits (its status says so) and a visit gets a "busy, retry" page.',
  },
  VIBE_WARM_SANDBOXES: {
    default: '(unset: `1` for local sandboxes, `0` on Modal)',
    meaning:
      'Sandboxes kept booted for the next new apps (each for an app id picked in advance, never shared by two apps): a create that can start at once, or a remix, takes one instead of waiting for a boot; another is booted once no build is running (or at the next idle sweep, within 30 s, while builds run). They count against VIBE_MAX_RUNNING, are the first stopped to make room, never take the last free slot and never stop an app to get one, and are stopped at shutdown. On Modal each one is a sandbox you pay for while it waits; Modal stops one that waits longer than VIBE_IDLE_TIMEOUT (another is booted), and one taken by an app carries no `channel` tag.',
  },
  VIBE_HOST: { default: '`127.0.0.1`', meaning: 'Address the app gateway listens on.' },
  VIBE_APP_DOMAIN: {
    default: '`localhost` when the gateway is on loopback and VIBE_PUBLIC_URL is unset; else unset',
    meaning:
      "Gives each app an origin of its own, `<id>.<VIBE_APP_DOMAIN>` (browsers resolve `*.localhost` to loopback), so no app can read another's storage or source; path links redirect there. Behind VIBE_PUBLIC_URL: a wildcard DNS name and certificate in front of the gateway (see docs/operating.md, Two views). A port in it is used as given; else VIBE_PUBLIC_URL's, else the gateway's. `none`: every app under `/apps/<id>/` of one origin.",
  },
  VIBE_METRICS_PORT: {
    default: '(unset: no metrics)',
    meaning:
      'Port of the admin server that answers `GET /metrics` in Prometheus text format (`0` = any free port). Never on the app gateway, so no app page can read it as its own origin.',
  },
  VIBE_METRICS_HOST: {
    default: '`127.0.0.1`',
    meaning: 'Address the metrics server listens on; keep it private (loopback or an internal network).',
  },
  VIBE_USER_BUILDS_PER_HOUR: {
    default: '`20`',
    meaning:
      'Builds (new apps, changes, remixes and exports) one person may start per clock hour; more are refused, privately, with the reset time. `0` = no limit.',
  },
  VIBE_USER_DAILY_TOKENS: {
    default: '`300000`',
    meaning:
      "Output tokens one person's builds may use per UTC day; once spent, their next build is refused until midnight UTC. `0` = no limit.",
  },
  VIBE_CHANNEL_DAILY_TOKENS: {
    default: '(unset: no limit)',
    meaning: 'Output tokens all builds in one channel may use per UTC day.',
  },
  VIBE_TEAM_DAILY_TOKENS: {
    default: '(unset: no limit)',
    meaning: 'Output tokens all builds in one Slack workspace or Discord server may use per UTC day.',
  },
  VIBE_CHANNEL_MAX_APPS: {
    default: '(unset: no limit)',
    meaning: 'Apps (not deleted) one channel may hold; a create beyond it is refused.',
  },
  VIBE_MAX_CONCURRENT_BUILDS: {
    default: '`4`',
    meaning:
      'Builds (model turns with their checks and repairs) this bot process runs at once; the rest wait in a fair queue (round-robin across people) and their status shows their place. Per process: each instance has its own. At most 3 changes wait per app.',
  },
  VIBE_TURN_MAX_OUTPUT_TOKENS: {
    default: '`60000`',
    meaning:
      'Output tokens one build may use across its tool rounds and repair rounds; Claude is stopped before a round that would go past it, and nothing is saved.',
  },
  VIBE_ALLOWED_TEAMS: {
    default: '(unset: every team)',
    meaning:
      'Slack team ids (`T…`) and Discord server ids the bot serves, comma-separated; anyone elsewhere gets one polite refusal and nothing else. The terminal chat is always served.',
  },
  VIBE_PRICES: {
    default: `\`${DEFAULT_PRICES}\``,
    meaning:
      'Dollars per million input/output tokens per model, for the cost estimates in `/vibe usage` and the build log (cache writes count 1.25x input, reads 0.1x).',
  },
  VIBE_PORT: {
    default: '`8787`',
    meaning: 'Port of the app gateway that serves every app link (`0` = any free port).',
  },
  VIBE_PUBLIC_URL: {
    default: '`http://VIBE_HOST:VIBE_PORT`',
    meaning: 'Base of the links the bot posts (set it when a tunnel or proxy fronts the gateway).',
  },
  VIBE_BROWSER: {
    default: '`auto`',
    meaning:
      "Chromium for the check before a link is posted: `auto` (`/usr/bin/chromium`, Chrome, or playwright's browser, whichever is installed; none = no browser check, with a warning and a card footer), `off`, or the path of a Chromium or Chrome executable.",
  },
  VIBE_BROWSER_ARGS: {
    default: '(none)',
    meaning:
      'Extra Chromium flags for that browser, space-separated (tests pass `--ignore-certificate-errors` for their self-signed tunnels).',
  },
  LOG_LEVEL: {
    default: '`info`',
    meaning:
      'pino log level. In the interactive terminal only warnings reach the screen; the rest goes to `./data/vibe.log`.',
  },
  SLACK_BOT_TOKEN: {
    default: '(unset)',
    meaning: 'Slack bot token (`xoxb-…`). With it, and one of the next two, the bot runs on Slack.',
  },
  SLACK_APP_TOKEN: {
    default: '(unset)',
    meaning: 'Slack Socket Mode (`xapp-…`, scope `connections:write`): no public URL needed.',
  },
  SLACK_SIGNING_SECRET: { default: '(unset)', meaning: 'Slack HTTP mode: verifies requests to `PORT`/slack/events.' },
  SLACK_API_URL: {
    default: "Slack's",
    meaning: 'Web API base URL (emulators, tests), e.g. `http://127.0.0.1:3001/api/`.',
  },
  PORT: { default: '`3000`', meaning: 'Slack HTTP mode: port of `/slack/events`.' },
  DISCORD_TOKEN: { default: '(unset)', meaning: 'Discord bot token. With it the bot runs on Discord (gateway).' },
  DISCORD_APPLICATION_ID: {
    default: '(unset)',
    meaning: 'Discord application id (`npm run discord:register` needs it).',
  },
  DISCORD_GUILD_ID: {
    default: '(unset)',
    meaning: 'Register `/vibe` in this server only (instant) instead of globally.',
  },
  DISCORD_API_URL: {
    default: "Discord's",
    meaning: 'REST base URL (emulators, tests), e.g. `http://127.0.0.1:4000/api`.',
  },
  MODAL_TOKEN_ID: {
    default: '(unset)',
    meaning:
      'Modal token id (`modal token new`). With the secret, sandboxes run on Modal. `MODAL_SERVER_URL` (read by the SDK) points it elsewhere (tests).',
  },
  MODAL_TOKEN_SECRET: { default: '(unset)', meaning: 'Modal token secret.' },
  VIBE_MODAL_APP: { default: '`vibe-bot`', meaning: 'Modal app the sandboxes belong to.' },
  VIBE_MODAL_IMAGE: {
    default: '`vibe-sandbox-template`',
    meaning: 'Name of the published sandbox image (`npm run modal:image`).',
  },
  VIBE_SANDBOX_TIMEOUT: {
    default: '`1h`',
    meaning: 'Modal: hard lifetime of a sandbox (at most `24h`); a later change or visit starts a new one.',
  },
  VIBE_SANDBOX_BOOT_TIMEOUT: {
    default: '`3m`',
    meaning:
      'Modal: longest wait for a new sandbox, throttled creates included; past it the user is told Modal has no room and nothing is left running.',
  },
  VIBE_SANDBOX_CPU: { default: '`1`', meaning: 'Modal: CPU cores reserved per sandbox.' },
  VIBE_SANDBOX_MEMORY: {
    default: '`1024`',
    meaning:
      "Memory per sandbox, MiB: Modal's reservation; local sandboxes: a cgroup limit where the bot can make one, Node's heap at half of it.",
  },
  VIBE_SANDBOX_PIDS: {
    default: '`256`',
    meaning: 'Local sandboxes: processes and threads per sandbox (a cgroup limit where the bot can make one).',
  },
  VIBE_SANDBOX_CPU_SECONDS: {
    default: '`1800`',
    meaning:
      'Local sandboxes: CPU seconds each process may use (`RLIMIT_CPU`); a runaway is killed, the app wakes again on the next visit.',
  },
};

/** The settings table as it stands in docs/settings.md, generated from settingsDoc. */
export function settingsTable(): string {
  const rows = Object.entries(settingsDoc).map(([name, d]) => `| \`${name}\` | ${d.default} | ${d.meaning} |`);
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads `.env` (if present) under the real environment, which wins. */
export function readEnv(env: NodeJS.ProcessEnv = process.env, dotenvPath = '.env'): Record<string, string | undefined> {
  const fromFile = existsSync(dotenvPath) ? parseDotenv(readFileSync(dotenvPath)) : {};
  return { ...fromFile, ...env };
}

/** Validates every setting at once; throws one ConfigError listing each bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const known = Object.fromEntries(Object.keys(configSchema.shape).map((k) => [k, blankToUndefined(env[k])])) as Record<
    string,
    string | undefined
  >;
  const result = configSchema.safeParse(known);
  if (result.success)
    return {
      ...result.data,
      VIBE_SANDBOX: result.data.VIBE_SANDBOX ?? (result.data.MODAL_TOKEN_ID ? 'modal' : 'local'),
    };
  const lines = result.error.issues.map((i) => {
    const name = String(i.path[0] ?? '?');
    const value = known[name];
    // Never echo a secret: tokens not at all, URLs (which may hold a password) redacted.
    const shown =
      value === undefined
        ? ''
        : /TOKEN|SECRET|KEY/.test(name)
          ? '=(hidden)'
          : /URL/.test(name)
            ? `=${JSON.stringify(redactUrl(value))}`
            : `=${JSON.stringify(value)}`;
    return `  ${name}${shown}: ${i.message}`;
  });
  throw new ConfigError(`Invalid settings (fix them in the environment or .env):\n${lines.join('\n')}`);
}

function blankToUndefined(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}

/** For entry points: the settings from the environment and .env, or undefined after printing what is wrong. */
export function configOrReport(env: Record<string, string | undefined> = readEnv()): Config | undefined {
  try {
    return loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return undefined;
  }
}
