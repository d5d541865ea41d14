import { announceVersion } from '../build/announce.ts';
import { publishVersion } from '../build/publish-version.ts';
import { formatCheckError, versionsCard } from '../chat/cards.ts';
import type { ChatContext } from '../chat/context.ts';
import { StaleVersionError, UserError } from '../errors.ts';
import type { BotKit } from '../kit.ts';
import { zeroUsage } from '../limits/usage.ts';
import type { AppRecord } from '../ports/index.ts';
import { requireOwnerOrManager } from './find-app.ts';

// An app's history: its versions, undo and restore. History is never rewritten: undo and
// restore append a copy of an older version.

type HistoryKit = Pick<BotKit, 'store' | 'runtime' | 'logger' | 'publisher' | 'screenshots' | 'background' | 'line'>;

/** `/vibe versions`: the last ten, privately. */
export async function showVersions(kit: Pick<BotKit, 'store'>, ctx: ChatContext, app: AppRecord): Promise<void> {
  const list = await kit.store.listVersions(app.id, 10);
  await ctx.conv.ephemeral(versionsCard(app, list));
}

export async function undo(kit: HistoryKit, ctx: ChatContext, app: AppRecord): Promise<void> {
  const latest = await kit.store.getVersion(app.id, app.latestVersion);
  const effective = latest?.basedOn ?? app.latestVersion; // undo after undo walks further back
  if (effective <= 1) throw new UserError('Nothing to undo: the app is at its first version.');
  await restoreVersion(kit, ctx, app, effective - 1, `undo (back to v${effective - 1})`);
}

export async function restore(kit: HistoryKit, ctx: ChatContext, app: AppRecord, n: number): Promise<void> {
  if (!Number.isInteger(n) || n < 1) throw new UserError('Give a version number, for example `/vibe restore 2`.');
  if (n > app.latestVersion)
    throw new UserError(`Version ${n} does not exist; this app has versions 1 to ${app.latestVersion}.`);
  await restoreVersion(kit, ctx, app, n, `restore v${n}`);
}

/**
 * Version `target` again, as a new version on top, in the app's line (read once there). It is
 * opened in the browser first: one that fails there is still restored (it was asked for), with
 * a warning; one the sandbox refuses is not.
 */
async function restoreVersion(
  kit: HistoryKit,
  ctx: ChatContext,
  app: AppRecord,
  target: number,
  instruction: string,
): Promise<void> {
  requireOwnerOrManager(ctx, app, instruction);
  await kit.line.run(app.id, async () => {
    const { store, runtime } = kit;
    const current = (await store.getApp(app.id)) ?? app;
    const version = await store.getVersion(app.id, target);
    if (!version)
      throw new UserError(`Version ${target} does not exist; this app has versions 1 to ${app.latestVersion}.`);
    const { refused, rendered } = await runtime.pinned(app.id, async () => {
      await runtime.ensure(app.id, { wait: true, app: current });
      const refused = await runtime.write(app.id, version.files);
      return { refused, rendered: refused.length > 0 ? undefined : await runtime.render(app.id) };
    });
    if (refused.length > 0)
      throw new UserError(`Version ${target} cannot be restored: ${formatCheckError(refused[0]!)}`);
    const broken = rendered?.errors[0];
    const saved = await store
      .addVersion(
        app.id,
        {
          files: version.files,
          instruction,
          authorId: ctx.actor.id,
          usage: zeroUsage(),
          model: 'none',
          basedOn: target,
        },
        { expectLatest: current.latestVersion },
      )
      .catch((err: unknown) => {
        if (err instanceof StaleVersionError)
          throw new UserError(
            `Another change to this app landed first (it is at v${err.latest} now); nothing was restored.`,
          );
        throw err;
      });
    runtime.synced(app.id, saved.number);
    await runtime.pinned(app.id, () => publishVersion(kit, app.id, saved));
    const note = broken
      ? `Restored v${target} as v${saved.number}, but it fails when opened in a browser: ${formatCheckError(broken)}`
      : `Restored v${target} as v${saved.number}.`;
    await ctx.conv.reply(app.threadId, announceVersion(kit, current, saved, note, { rendered }));
  });
}
