import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { unzipSync } from 'fflate';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { buildVibeApp, type VibeApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { OfflineSampleModel } from '../../src/llm/offline.ts';
import { loadTemplate } from '../../src/llm/system-prompt.ts';
import { TEMPLATE_DIR } from '../../src/template.ts';
import { needs } from '../support/needs.ts';
import { RecordingConversation } from '../support/recording-conversation.ts';

// `/vibe export` for real: the build is made inside the app's isolated sandbox, the zip comes
// back into the thread, and the project in it installs (from npm's cache, which the template's
// own install filled) and builds on its own, with none of the bot's plugins.

describe.runIf(needs('bwrap'))('an exported app stands on its own', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vibe-export-'));
  let app: VibeApp | undefined;
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'zips src, the project and a dist built in the sandbox; npm install && npm run build pass on it',
    { timeout: 300_000 },
    async () => {
      const config = loadConfig({
        VIBE_STORE_URL: `sqlite://${join(dir, 'vibe.sqlite')}`,
        VIBE_PORT: '0',
        VIBE_BROWSER: 'off',
        VIBE_DATA_DIR: join(dir, 'data'),
      });
      const model = new OfflineSampleModel({ delayMs: 0, baseFiles: (await loadTemplate(TEMPLATE_DIR)).templateFiles });
      app = await buildVibeApp(config, pino({ level: 'silent' }), { model });
      const conv = new RecordingConversation('shell:general');
      const ctx = { conv, actor: { id: 'shell:ana', name: 'ana' }, channelId: conv.channelId };
      await app.bot.command(ctx, 'a todo list');
      const live = conv.cards().find((c) => c.meta?.state === 'live');
      expect(live, JSON.stringify(conv.cards().at(-1))).toBeDefined();
      await app.bot.command(ctx, `export ${live!.meta!.appId}`);
      const card = conv.events.filter((e) => e.type === 'reply').at(-1)?.card;
      expect(card?.text, JSON.stringify(card)).toContain('and a build in `dist/`');
      const zip = unzipSync(card!.file!.bytes);

      const out = join(dir, 'unzipped');
      for (const [path, bytes] of Object.entries(zip)) {
        mkdirSync(dirname(join(out, path)), { recursive: true });
        writeFileSync(join(out, path), bytes);
      }
      const project = join(out, card!.file!.name.replace(/\.zip$/, ''));
      // The sandbox's build: relative asset paths, no error reporter of the bot's in it.
      const builtHtml = readFileSync(join(project, 'dist', 'index.html'), 'utf8');
      expect(builtHtml).toMatch(/src="\.\/assets\/index-[\w-]+\.js"/);
      expect(builtHtml).not.toMatch(/__vibe|vibe-error/);

      // The project on its own: npm's cache already holds the template's exact versions.
      const run = (cmd: string, args: string[]) =>
        execFileSync(cmd, args, { cwd: project, encoding: 'utf8', stdio: 'pipe', timeout: 240_000 });
      run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts']);
      rmSync(join(project, 'dist'), { recursive: true, force: true });
      run('npm', ['run', 'build']);
      expect(existsSync(join(project, 'dist', 'index.html'))).toBe(true);
      expect(readFileSync(join(project, 'dist', 'index.html'), 'utf8')).toMatch(/\.\/assets\/index-[\w-]+\.js/);
      run('npm', ['run', 'check']);
    },
  );
});
