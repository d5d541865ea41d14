import { formatCheckError, liveCard, truncate } from '../chat/cards.ts';
import type { BotKit } from '../kit.ts';
import type { AppRecord, Card, CheckError, RenderResult, VersionRecord } from '../ports/index.ts';

/**
 * The tail shared by create, refine, undo, restore and remix: the card of a version that just
 * went live, with the browser check's screenshot (or a footer when no browser checked it). The
 * screenshot is kept as the app's newest (link cards and the home show it), in the background.
 */
export function announceVersion(
  kit: Pick<BotKit, 'runtime' | 'screenshots' | 'logger' | 'background'>,
  app: AppRecord,
  version: VersionRecord,
  given: string | undefined,
  checked: { rendered?: RenderResult; warnings?: CheckError[] },
): Card {
  const shot = checked.rendered?.screenshot;
  if (shot)
    void kit
      .background(kit.screenshots.keep(app.id, version.number, shot))
      .catch((err: unknown) =>
        kit.logger.warn({ err, appId: app.id, version: version.number }, 'the screenshot could not be kept'),
      );
  const warned = checked.warnings?.[0];
  const note = [
    given ? truncate(given, 300) : undefined,
    warned ? truncate(`The browser console still reports: ${formatCheckError(warned)}`, 300) : undefined,
  ]
    .filter(Boolean)
    .join('\n');
  return liveCard({ ...app, latestVersion: version.number }, version, kit.runtime.link(app), note || undefined, {
    screenshot: shot,
    browserChecked: checked.rendered !== undefined,
  });
}
