/**
 * Polls `fn` until it returns something truthy, then returns it; after `ms` throws the last
 * error (or a timeout). The one polling helper of the tests: every wait on real processes,
 * servers and browsers goes through it, with a deadline, never a bare sleep.
 */
export async function eventually<T>(
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 10_000,
  everyMs = 25,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw last instanceof Error ? last : new Error(`condition not met within ${ms} ms`);
}
