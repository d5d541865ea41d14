/** The places on the ballot before anyone adds one. */
export const DEFAULT_PLACES = ['Pizza', 'Sushi', 'Tacos', 'Salad bar', 'Thai'];

export interface Vote {
  place: string;
  name: string | null;
}

/**
 * A stored vote, read defensively: an earlier version of the app (or another page) may have
 * written something else under the same list.
 */
export function readVote(value: unknown): Vote | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { place, name } = value as { place?: unknown; name?: unknown };
  if (typeof place !== 'string' || place === '') return undefined;
  return { place, name: typeof name === 'string' && name.trim() !== '' ? name : null };
}

/** A place someone added, read the same way. */
export function readPlace(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim().slice(0, 40) : undefined;
}
