/**
 * Like Promise.all, but a failure is thrown only once every promise has settled: work started
 * side by side is finished (or failed) before the caller reacts to a failure (a rollback, say).
 */
export async function settledAll<T extends readonly unknown[]>(promises: {
  [K in keyof T]: Promise<T[K]>;
}): Promise<T> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
