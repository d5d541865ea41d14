import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, readEnv } from '../src/config.ts';
import { parseDuration } from '../src/config-schema.ts';
import { redactUrl } from '../src/redact-url.ts';

describe('config', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('has working defaults with an empty environment', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      VIBE_STORE_URL: 'sqlite://./data/vibe.sqlite',
      VIBE_IDLE_TIMEOUT: 600_000,
      VIBE_MAX_RUNNING: 8,
      VIBE_PORT: 8787,
      VIBE_ISOLATION: 'auto',
    });
    expect(c.ANTHROPIC_API_KEY).toBeUndefined();
    expect(c.VIBE_MODEL).toBeUndefined(); // the start-up check picks the model (src/llm/model-check.ts)
  });

  it('lists every bad variable in one readable message', () => {
    let err: unknown;
    try {
      loadConfig({
        VIBE_PORT: 'eighty',
        VIBE_IDLE_TIMEOUT: 'soon',
        VIBE_STORE_URL: 'mysql://x',
        LOG_LEVEL: 'loud',
        VIBE_MODEL: 'claude-opus-4-1',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    for (const name of [
      'VIBE_PORT="eighty"',
      'VIBE_IDLE_TIMEOUT="soon"',
      'VIBE_STORE_URL="mysql://x"',
      'LOG_LEVEL="loud"',
    ])
      expect(msg).toContain(name);
    expect(msg).not.toContain('VIBE_MODEL');
    expect(msg.split('\n')).toHaveLength(5);
  });

  it('reads .env under the real environment, which wins; blank values mean unset', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vibe-env-'));
    dirs.push(dir);
    writeFileSync(join(dir, '.env'), 'VIBE_MODEL=from-file\nVIBE_PORT=9000\nANTHROPIC_API_KEY=\n');
    const c = loadConfig(readEnv({ VIBE_PORT: '9100' }, join(dir, '.env')));
    expect(c.VIBE_MODEL).toBe('from-file');
    expect(c.VIBE_PORT).toBe(9100);
    expect(c.ANTHROPIC_API_KEY).toBeUndefined();
  });

  it('never echoes a password in a bad store URL', () => {
    let msg = '';
    try {
      loadConfig({ VIBE_STORE_URL: 'mysql://admin:hunter2@db.internal/app?password=hunter3' });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain('VIBE_STORE_URL');
    expect(msg).not.toMatch(/hunter/);
  });

  it('redacts passwords and password-like query parameters in URLs', () => {
    expect(redactUrl('redis://:s3cret@127.0.0.1:6379/0')).toBe('redis://:***@127.0.0.1:6379/0');
    expect(redactUrl('postgres://bob:p@ss@db:5432/x')).not.toMatch(/p@ss|ss@db/);
    expect(redactUrl('postgres://bob:p@ss@db:5432/x')).toContain('bob:***@');
    expect(redactUrl('postgres://db/x?sslmode=require&password=hunter2&authToken=abc')).toBe(
      'postgres://db/x?sslmode=require&password=***&authToken=***',
    );
    expect(redactUrl('sqlite://./data/vibe.sqlite')).toBe('sqlite://./data/vibe.sqlite');
    expect(redactUrl('not a url with secret')).toBe('(hidden)');
    expect(redactUrl('redis://user:pw@[::1')).toBe('redis://(unparseable, hidden)');
  });

  it('parses durations', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('30')).toBe(30_000);
    expect(parseDuration('ten')).toBeUndefined();
  });
});

describe('Slack settings', () => {
  it('needs a bot token with a way to receive events, and never echoes a secret', () => {
    expect(() => loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1' })).toThrow(
      /SLACK_SIGNING_SECRET=?.*set it \(HTTP mode\) or SLACK_APP_TOKEN/,
    );
    expect(() => loadConfig({ SLACK_APP_TOKEN: 'xapp-1' })).toThrow(/SLACK_BOT_TOKEN: is required/);
    let msg = '';
    try {
      loadConfig({ SLACK_BOT_TOKEN: 'not-a-token-super-secret', SLACK_SIGNING_SECRET: 's' });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain('SLACK_BOT_TOKEN=(hidden): must be a bot token');
    expect(msg).not.toContain('super-secret');
    expect(loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' })).toMatchObject({
      SLACK_APP_TOKEN: 'xapp-1',
      PORT: 3000,
    });
  });
});

describe('sandbox host', () => {
  it('is local by default and Modal when its tokens are set; half a Modal setup is an error', () => {
    expect(loadConfig({}).VIBE_SANDBOX).toBe('local');
    const modal = loadConfig({ MODAL_TOKEN_ID: 'ak-1', MODAL_TOKEN_SECRET: 'as-1' });
    expect(modal).toMatchObject({ VIBE_SANDBOX: 'modal', VIBE_MODAL_APP: 'vibe-bot', VIBE_SANDBOX_TIMEOUT: 3_600_000 });
    expect(loadConfig({ MODAL_TOKEN_ID: 'ak-1', MODAL_TOKEN_SECRET: 'as-1', VIBE_SANDBOX: 'local' }).VIBE_SANDBOX).toBe(
      'local',
    );
    expect(() => loadConfig({ MODAL_TOKEN_ID: 'ak-1' })).toThrow(/MODAL_TOKEN_SECRET.*set both/);
    expect(() => loadConfig({ VIBE_SANDBOX: 'modal' })).toThrow(/VIBE_SANDBOX="modal": modal needs MODAL_TOKEN_ID/);
  });

  it("caps a sandbox's lifetime at Modal's 24 h and bounds the wait for one", () => {
    expect(loadConfig({ VIBE_SANDBOX_TIMEOUT: '24h' }).VIBE_SANDBOX_TIMEOUT).toBe(86_400_000);
    expect(() => loadConfig({ VIBE_SANDBOX_TIMEOUT: '25h' })).toThrow(/VIBE_SANDBOX_TIMEOUT.*longer than 24h/);
    expect(loadConfig({}).VIBE_SANDBOX_BOOT_TIMEOUT).toBe(180_000);
    expect(() => loadConfig({ VIBE_SANDBOX_BOOT_TIMEOUT: '2h' })).toThrow(/VIBE_SANDBOX_BOOT_TIMEOUT/);
  });
});
