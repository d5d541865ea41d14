import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INTAKE_QUIET_MS } from '../../adapters/background-work.ts';
import { SlackHarness } from '../support/slack-harness.ts';

// Acks never wait for other work (issue 23): under a burst of /vibe commands to the real Bolt
// receiver, every command is acknowledged before the work of any of them starts. The rule itself
// (quiet window, longest hold) is tested with a fake clock in background-work.test.ts; here its
// window is widened so that a loaded machine's gaps between requests do not end the burst.

describe('Slack intake under a burst', () => {
  let slack: SlackHarness;
  beforeEach(async () => {
    slack = await new SlackHarness().open();
  });
  afterEach(async () => {
    await slack.close();
  });

  it('acknowledges every command of a burst before the work of any of them starts', async () => {
    await slack.start({ quietMs: 500, maxHoldMs: 20_000 });
    const started: number[] = [];
    const command = slack.bot.command.bind(slack.bot);
    slack.bot.command = (ctx, text) => (started.push(performance.now()), command(ctx, text));
    const acked: number[] = [];
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        slack.vibe('gallery', `U0BURST${i}`).then(() => acked.push(performance.now())),
      ),
    );
    await slack.settled();
    expect(started).toHaveLength(40);
    expect(Math.min(...started)).toBeGreaterThan(Math.max(...acked));
    // Every gallery was answered all the same.
    expect(
      slack.fake.calls.filter((c) => c.method === 'chat.postEphemeral' || c.method === 'response_url').length,
    ).toBeGreaterThan(0);
  });

  it('starts the work of a lone command once no other request has come for a moment', async () => {
    await slack.start();
    const started: number[] = [];
    const command = slack.bot.command.bind(slack.bot);
    slack.bot.command = (ctx, text) => (started.push(performance.now()), command(ctx, text));
    const t0 = performance.now();
    await slack.vibe('gallery');
    await slack.settled();
    expect(started).toHaveLength(1);
    expect(started[0]! - t0).toBeGreaterThanOrEqual(INTAKE_QUIET_MS - 1);
  });
});
