import { describe, expect, it, vi } from 'vitest';
import type { Card, Conversation, MessageRef } from '../../src/core/ports/index.ts';
import { StatusMessage } from '../../src/core/chat/status-message.ts';

function recordingConversation() {
  const edits: { at: number; card: Card }[] = [];
  const conv: Conversation = {
    post: async () => ({ id: 'm1', channelId: 'c' }),
    update: async (_ref, card) => void edits.push({ at: Date.now(), card }),
    reply: async () => ({ id: 'm2', channelId: 'c' }),
    startThread: async (ref) => ref.id,
    ephemeral: async () => undefined,
  };
  return { conv, edits };
}

const ref: MessageRef = { id: 'm1', channelId: 'c' };

describe('StatusMessage', () => {
  it('edits progress at most once per interval, coalescing to the newest card, and lands the final card at once, last', async () => {
    // A clock of the test's own: the intervals are exact, whatever the machine's load.
    vi.useFakeTimers();
    try {
      const { conv, edits } = recordingConversation();
      const start = Date.now();
      const s = new StatusMessage(conv, ref, { minIntervalMs: 100, now: () => Date.now() });
      for (let i = 0; i < 20; i++) {
        s.set({ text: `step ${i}` });
        await vi.advanceTimersByTimeAsync(10);
      }
      await vi.advanceTimersByTimeAsync(50); // 50 ms after the last progress edit
      const finishedAt = Date.now();
      await s.finish({ text: 'done' });
      const times = [start, ...edits.slice(0, -1).map((e) => e.at)];
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(100);
      expect(edits.map((e) => e.card.text)).toEqual(['step 9', 'step 19', 'done']); // the newest card of each interval
      expect(edits.at(-1)!.at).toBe(finishedAt); // the final card is not held back by the interval
      s.set({ text: 'too late' });
      await vi.advanceTimersByTimeAsync(150);
      expect(edits.at(-1)?.card.text).toBe('done');
    } finally {
      vi.useRealTimers();
    }
  });

  it('reports a failed edit instead of throwing', async () => {
    const errors: unknown[] = [];
    const conv: Conversation = {
      ...recordingConversation().conv,
      update: async () => Promise.reject(new Error('rate limited')),
    };
    const s = new StatusMessage(conv, ref, { minIntervalMs: 0, onError: (e) => errors.push(e) });
    await s.finish({ text: 'x' });
    expect(errors).toHaveLength(1);
  });
});
