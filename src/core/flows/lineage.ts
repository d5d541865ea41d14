import type { AppRecord, Card } from '../ports/index.ts';

// Where a remix came from, as cards show it, and the button that makes one.

/** "Remixed from Focus Timer by ana": the card's and the history's line about where an app came from. */
export function remixedFrom(app: Pick<AppRecord, 'remixOf'>): string | undefined {
  const from = app.remixOf;
  return from ? `Remixed from ${from.title} (v${from.version}) by ${from.ownerName ?? from.ownerId}` : undefined;
}

export function remixAction(appId: string): NonNullable<Card['actions']>[number] {
  return { label: 'Remix', action: 'remix', value: appId };
}
