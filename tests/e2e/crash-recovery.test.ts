import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TAG_APP } from '../../src/sandbox/modal.ts';
import { TEMPLATE_DIR } from '../../src/template.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic/server.ts';
import { startFakeModal, type FakeModal } from '../fakes/modal/server.ts';
import { commandRequest, postToBolt, slashCommand } from '../fakes/slack/requests.ts';
import { startFakeSlack, type FakeSlack } from '../fakes/slack/web-api.ts';
import { BotProcess } from '../support/bot-process.ts';
import { eventually } from '../support/eventually.ts';
import { needs } from '../support/needs.ts';

// Two real bot processes on one store (Slack over HTTP, sandboxes on a fake Modal, Claude on
// a fake API). The first is killed (SIGKILL) in the middle of a create; the second finds the
// build it left behind, tells the channel, and terminates the sandbox it was building in.

describe.runIf(needs('bwrap'))('a bot process killed mid-build', () => {
  let modal: FakeModal;
  let slack: FakeSlack;
  let claude: FakeAnthropic;
  let dir: string;
  const bots: BotProcess[] = [];

  beforeAll(async () => {
    modal = await startFakeModal({ imageDir: () => TEMPLATE_DIR });
    slack = await startFakeSlack();
    claude = await startFakeAnthropic({ tokenDelayMs: 40 }); // slow: the build is still writing when killed
    dir = mkdtempSync(join(tmpdir(), 'vibe-crash-'));
  });
  afterAll(async () => {
    for (const b of bots) await b.stop();
    await claude?.close();
    await slack?.close();
    await modal?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function start(): BotProcess {
    const bot = new BotProcess(
      {
        SLACK_BOT_TOKEN: 'xoxb-crash',
        SLACK_SIGNING_SECRET: 'crash-secret',
        SLACK_API_URL: slack.url,
        PORT: '0',
        VIBE_PORT: '0',
        VIBE_STORE_URL: `sqlite://${join(dir, 'vibe.sqlite')}`,
        VIBE_BROWSER: 'off',
        ANTHROPIC_API_KEY: 'sk-ant-crash',
        ANTHROPIC_BASE_URL: claude.url,
        MODAL_SERVER_URL: modal.url,
        MODAL_TOKEN_ID: modal.tokenId,
        MODAL_TOKEN_SECRET: modal.tokenSecret,
        HOME: dir,
      },
      [],
    );
    bots.push(bot);
    return bot;
  }

  async function slackPort(bot: BotProcess): Promise<string> {
    return eventually(
      () => bot.stderr.map((l) => /HTTP mode, :(\d+)\/slack\/events/.exec(l)?.[1]).find(Boolean),
      60_000,
      50,
    ).catch(() => {
      throw new Error(`the bot did not start:\n${bot.stderr.slice(-30).join('\n')}`);
    });
  }

  it(
    'the survivor corrects its status message with Retry and terminates its sandbox',
    { timeout: 240_000 },
    async () => {
      const filler = '<p>Text so the answer takes a while to stream.</p>\n'.repeat(60);
      claude.script({
        content: [
          {
            type: 'tool_use',
            name: 'str_replace_based_edit_tool',
            input: {
              command: 'create',
              path: 'src/App.tsx',
              file_text: `export default function App() {\n  return <main><h1>Never</h1>${filler}</main>;\n}\n`,
            },
          },
        ],
      });
      const dying = start();
      const port = await slackPort(dying);
      const res = await postToBolt(
        `http://127.0.0.1:${port}/slack/events`,
        'crash-secret',
        commandRequest(slashCommand({ text: 'a timer', response_url: slack.responseUrl() })),
      );
      expect(res.status).toBe(200);
      // Building: its status message is up, and its sandbox runs.
      await eventually(() => slack.callsTo('chat.postMessage').length > 0, 60_000);
      const sandbox = await eventually(
        () => [...modal.sandboxes.values()].find((s) => s.status === 'running' && s.tags[TAG_APP]),
        120_000,
        100,
      );
      process.kill(dying.pid, 'SIGKILL');
      await eventually(() => isDead(dying.pid), 10_000);

      const survivor = start();
      await slackPort(survivor);
      // Within the heartbeat's staleness (20 s) and a sweep (10 s), the survivor recovers it.
      const update = await slack.waitForCall(
        'chat.update',
        (c) => JSON.stringify(c.args).includes('interrupted'),
        120_000,
      );
      const text = JSON.stringify(update.args);
      expect(text).toContain('nothing was saved');
      expect(text).toContain('Retry');
      expect(update.args.channel).toBe(slack.callsTo('chat.postMessage')[0]!.args.channel);
      expect(update.args.ts).toBeTruthy();
      await eventually(() => modal.sandboxes.get(sandbox.id)?.status !== 'running', 60_000, 200);
      expect(survivor.stderr.join('\n')).toContain('recovered a build of a process that died');
    },
  );
});

function isDead(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}
