import type { AppStore, Logger, SandboxProvider } from './core/ports/index.ts';

/** Modal sandboxes younger than this are never taken for orphans: a build may still be using one. */
const LONGEST_BUILD_MS = 15 * 60_000;
/** How often a process looks for builds that a dead process left behind. */
const RECOVER_EVERY_MS = 10_000;

/**
 * At start-up, when the sandbox host keeps sandboxes beyond a process (Modal): those that outlived
 * the bot are stopped. When the host does not answer, the store is closed and the error says why.
 */
export async function stopOrphanSandboxes(
  sandbox: SandboxProvider,
  store: AppStore,
  journal: { liveAppIds(): Promise<Set<string>> },
): Promise<void> {
  if (!sandbox.stopOrphans) return;
  // Sandboxes that outlived the bot are kept only if the store still says they are the app's,
  // or another live process is building that app, or they are younger than the longest build
  // (a process that does not journal its builds may be making one: a rolling deploy).
  const building = await journal.liveAppIds().catch(() => new Set<string>());
  await sandbox
    .stopOrphans(
      async (appId, sandboxId) => {
        if (building.has(appId)) return true;
        const app = await store.getApp(appId);
        return Boolean(app && !app.deleted && app.sandboxId === sandboxId);
      },
      { graceMs: LONGEST_BUILD_MS },
    )
    .catch(async (err: unknown) => {
      await store.close();
      throw new Error(
        `Modal did not answer (${err instanceof Error ? err.message : String(err)}). Check MODAL_TOKEN_ID and MODAL_TOKEN_SECRET, or set VIBE_SANDBOX=local.`,
      );
    });
}

/** Builds of processes that died: their messages corrected, their sandboxes stopped, every few seconds. Returns stop. */
export function startRecovering(
  bot: { recover(): Promise<Set<string>> },
  sandbox: SandboxProvider,
  logger: Logger,
): () => Promise<void> {
  const recover = async () => {
    const strays = await bot.recover();
    if (strays.size > 0 && sandbox.stopOrphans) await sandbox.stopOrphans(async (appId) => !strays.has(appId));
  };
  let recovering: Promise<void> = Promise.resolve();
  const recoverer = setInterval(() => {
    recovering = recover().catch((err: unknown) =>
      logger.warn({ err }, 'recovering the builds of a dead process failed'),
    );
  }, RECOVER_EVERY_MS);
  recoverer.unref();
  return async () => {
    clearInterval(recoverer);
    await recovering;
  };
}
