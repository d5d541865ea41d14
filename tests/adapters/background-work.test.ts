import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BackgroundWork, INTAKE_MAX_HOLD_MS, INTAKE_QUIET_MS } from '../../adapters/background-work.ts';

// Work after an ack waits until no request has arrived for INTAKE_QUIET_MS (the burst's acks go
// first), and never longer than INTAKE_MAX_HOLD_MS. On a fake clock: the rule, not the machine.

const logger = { error: () => {} };

describe('BackgroundWork: intake first', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A request every `everyMs` for `forMs`, the clock moving on between them. */
  async function burst(work: BackgroundWork, everyMs: number, forMs: number): Promise<void> {
    for (let t = 0; t < forMs; t += everyMs) {
      await vi.advanceTimersByTimeAsync(everyMs);
      work.arrived();
    }
  }

  it('holds work while requests keep arriving, and starts it once they have stopped for INTAKE_QUIET_MS', async () => {
    const work = new BackgroundWork(logger, 'test');
    let startedAt = 0;
    work.arrived();
    const t0 = Date.now();
    work.run('held', async () => void (startedAt = Date.now()), { afterIntake: true });
    await burst(work, INTAKE_QUIET_MS - 2, 400);
    expect(startedAt).toBe(0);
    const lastArrival = Date.now();
    await vi.advanceTimersByTimeAsync(INTAKE_QUIET_MS);
    expect(startedAt).toBe(lastArrival + INTAKE_QUIET_MS);
    expect(startedAt - t0).toBeGreaterThan(400);
  });

  it('holds work no longer than INTAKE_MAX_HOLD_MS, however long the burst', async () => {
    const work = new BackgroundWork(logger, 'test');
    let startedAt = 0;
    work.arrived();
    const t0 = Date.now();
    work.run('held', async () => void (startedAt = Date.now()), { afterIntake: true });
    await burst(work, 2, INTAKE_MAX_HOLD_MS + 500);
    expect(startedAt - t0).toBe(INTAKE_MAX_HOLD_MS);
  });

  it('starts work without afterIntake at once', async () => {
    const work = new BackgroundWork(logger, 'test');
    let started = false;
    work.arrived();
    work.run('now', async () => void (started = true));
    expect(started).toBe(true);
    await work.idle();
  });
});
