import { describe, expect, it } from 'vitest';
import type { Card, Conversation, MessageRef } from '../../src/core/ports.ts';
import { StatusMessage } from '../../src/core/status-message.ts';

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
  it('edits at most once per interval, coalescing to the newest card, and lands the final card last', async () => {
    const { conv, edits } = recordingConversation();
    const start = Date.now();
    const s = new StatusMessage(conv, ref, { minIntervalMs: 100 });
    for (let i = 0; i < 20; i++) {
      s.set({ text: `step ${i}` });
      await new Promise((r) => setTimeout(r, 10));
    }
    await s.finish({ text: 'done' });
    const times = [start, ...edits.map((e) => e.at)];
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(95);
    expect(edits.length).toBeLessThanOrEqual(4);
    expect(edits.at(-1)?.card.text).toBe('done');
    s.set({ text: 'too late' });
    await new Promise((r) => setTimeout(r, 150));
    expect(edits.at(-1)?.card.text).toBe('done');
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
