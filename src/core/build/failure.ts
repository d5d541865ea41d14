import { failureCard } from '../chat/status-cards.ts';
import { UserError } from '../errors.ts';
import { newId } from '../ids.ts';
import type { Card, CheckError, Logger } from '../ports/index.ts';
import { MAX_REPAIR_ROUNDS } from './build-loop.ts';

/** A failure as a card: UserErrors say what happened; anything else is logged under an id. */
export function failure(logger: Logger, what: string, err: unknown): Card {
  if (err instanceof UserError) return failureCard(what, err.message, undefined);
  const id = newId(6);
  logger.error({ err, errorId: id }, `${what} failed`);
  return failureCard(what, `Something went wrong on our side (error ${id}). Nothing was saved.`, undefined);
}

/** How a build that kept failing is described: in the browser, or in the type check. */
export function stillFailing(errors: CheckError[], what = 'The code'): string {
  return errors.every((e) => e.source === 'browser')
    ? `${what} still failed when opened in a browser after ${MAX_REPAIR_ROUNDS} repair rounds`
    : `${what} still had errors after ${MAX_REPAIR_ROUNDS} repair rounds`;
}
