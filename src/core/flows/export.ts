import { exportCard } from '../chat/cards.ts';
import type { ChatContext } from '../chat/context.ts';
import { UserError } from '../errors.ts';
import type { BotKit } from '../kit.ts';
import type { AppRecord } from '../ports/index.ts';

/**
 * `/vibe export`: the latest version as a zip in the app's thread (open to anyone who can see
 * the app). Waits for changes under way; the build is made in the app's sandbox, never here.
 */
export async function exportApp(
  kit: Pick<BotKit, 'store' | 'runtime' | 'logger' | 'packer' | 'shared' | 'line'>,
  ctx: ChatContext,
  app: AppRecord,
): Promise<void> {
  const { store, runtime, logger, packer } = kit;
  if (!packer) throw new UserError('This bot cannot export apps.');
  kit.line.refuseIfFull(app.id, 'export');
  await kit.line.run(app.id, async () => {
    const fresh = await store.getApp(app.id);
    if (!fresh || fresh.deleted) throw new UserError('This app was deleted.');
    const version = await store.getVersion(app.id, fresh.latestVersion);
    if (!version) throw new Error(`app ${app.id} lacks version ${fresh.latestVersion}`);
    const built = await runtime
      .pinned(app.id, async () => {
        await runtime.ensure(app.id, { wait: true, app: fresh, version });
        return runtime.exportBuild(app.id);
      })
      .catch((err: unknown) => {
        logger.warn({ err, appId: app.id }, 'the export build failed; the zip has the source only');
        return undefined;
      });
    // shared state goes with it as data.json (a failed read leaves it out, never fails the export)
    const data = await kit.shared?.exportData(app.id).catch((err: unknown) => {
      logger.warn({ err, appId: app.id }, 'the shared data could not be read; the zip has none');
      return undefined;
    });
    const file = packer.pack(fresh, version, built, data);
    logger.info(
      { appId: app.id, version: version.number, bytes: file.bytes.length, built: Boolean(built) },
      'app exported',
    );
    await ctx.conv.reply(fresh.threadId, exportCard(fresh, version, file, built !== undefined));
  });
}
