import type { BotKit } from '../kit.ts';
import type { VersionRecord } from '../ports/index.ts';

/**
 * Publishes a version that was just stored, while its sandbox still serves it. A failed publish
 * costs viewers nothing but a wait: the version stands, and the first view publishes it.
 */
export async function publishVersion(
  kit: Pick<BotKit, 'publisher' | 'logger'>,
  appId: string,
  version: VersionRecord,
): Promise<void> {
  await kit.publisher?.publish(appId, version).catch((err: unknown) => {
    kit.logger.warn({ err, appId, version: version.number }, 'the version was not published; its first view will be');
  });
}
