import { Worker } from 'node:worker_threads';

/**
 * `n` threads that keep a core busy each until stopped: a loaded machine beside the bench
 * (VIBE_LOAD_BURNERS), so the figures say what happens when the bot does not have the CPU to itself.
 */
export function startCpuBurners(n: number): { stop: () => Promise<void> } {
  const workers = Array.from({ length: n }, () => new Worker('for (;;) Math.sqrt(Math.random());', { eval: true }));
  return { stop: async () => void (await Promise.all(workers.map((w) => w.terminate()))) };
}
