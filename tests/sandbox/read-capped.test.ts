import { describe, expect, it } from 'vitest';
import { readCapped, readTail } from '../../src/sandbox/read-capped.ts';

// What a sandbox prints is read with a byte cap: a process printing without end costs the bot
// at most the cap, and the stream is cancelled (no more is pulled from the sandbox).

/** A text stream of `chunks` chunks of `size` characters each, counting what was pulled and whether it was cancelled. */
function printer(chunks: number, size: number, char = 'x') {
  const seen = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<string>({
    pull(controller) {
      if (seen.pulled === chunks) return controller.close();
      seen.pulled++;
      controller.enqueue(char.repeat(size));
    },
    cancel() {
      seen.cancelled = true;
    },
  });
  return { stream, seen };
}

describe('readCapped', () => {
  it('reads a stream within the cap whole', async () => {
    const { stream } = printer(4, 1000);
    expect(await readCapped(stream, 4000, 'the output')).toBe('x'.repeat(4000));
  });

  it('refuses past the cap, naming what it read, and cancels the stream', async () => {
    const { stream, seen } = printer(1_000_000, 64 * 1024); // 64 GB if read whole
    await expect(readCapped(stream, 1 << 20, 'the output of the type check')).rejects.toThrow(
      /the output of the type check is over 1 MiB/,
    );
    expect(seen.cancelled).toBe(true);
    expect(seen.pulled).toBeLessThan(20);
  });

  it('counts bytes, not characters', async () => {
    const { stream } = printer(1, 600, 'é'); // 1,200 bytes
    await expect(readCapped(stream, 1000, 'the answer')).rejects.toThrow(/over 1 KiB/);
  });

  it('readTail keeps only the end of a long stream', async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 100; i++) controller.enqueue(Buffer.from(`line ${i}\n`));
        controller.close();
      },
    });
    const tail = await readTail(stream, 16);
    expect(tail).toBe('line 98\nline 99\n');
  });
});
