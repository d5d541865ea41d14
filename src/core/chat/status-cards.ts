import type { Card, CheckError } from '../ports/index.ts';
import { formatCheckError } from '../build/check-errors.ts';

// The status message of a build: waiting, its stages, and how it ended when it did not go live.

export function queuedCard(what: string, ahead: number): Card {
  return {
    title: what,
    text: ahead > 0 ? `Queued: ${ahead} change${ahead === 1 ? '' : 's'} ahead of this one.` : 'Queued.',
  };
}

/** A build waiting for one of the bot's build slots (VIBE_MAX_CONCURRENT_BUILDS), with its place in line. */
export function slotWaitCard(what: string, place: number, slots?: number): Card {
  const limit = slots ? ` (${slots} build${slots === 1 ? '' : 's'} run at once)` : '';
  return {
    title: what,
    text: `Waiting for a free build slot${limit}: ${place === 1 ? 'next in line' : `number ${place} in line`}.`,
  };
}

export type Stage =
  | { stage: 'writing'; files: string[] }
  | { stage: 'starting' }
  | { stage: 'waiting' }
  | { stage: 'checking' }
  | { stage: 'rendering' }
  | { stage: 'repairing'; round: number; of: number; firstError: string };

/** Said on the status message's link to the creator's live view while the app is written. */
export const WATCH_LABEL = 'Watch it being built (may show errors until it is checked)';

/** The status message's link to the creator's live view, when there is one. */
export function watchLinks(watch: string | undefined): Pick<Card, 'links'> {
  return watch ? { links: [{ label: WATCH_LABEL, url: watch, kind: 'creator' }] } : {};
}

export function progressCard(what: string, s: Stage, watch?: string): Card {
  const text = (() => {
    switch (s.stage) {
      case 'writing':
        return s.files.length === 0 ? 'Writing code…' : `Writing code… ${s.files.join(', ')}`;
      case 'starting':
        return 'Starting the sandbox…';
      case 'waiting':
        return 'Waiting for a free sandbox: every one is busy with another build. It starts as soon as one is free…';
      case 'checking':
        return 'Checking the code…';
      case 'rendering':
        return 'Opening it in a browser…';
      case 'repairing':
        return `Repairing (round ${s.round} of ${s.of}): ${s.firstError}`;
    }
  })();
  return { title: what, text, ...watchLinks(watch), meta: { state: 'progress' } };
}

/** A build whose bot process died (a restart, a crash): what became of it, and a way to run it again. */
export function interruptedCard(what: string, retryId: string): Card {
  return {
    title: `${what}: interrupted`,
    text: 'The bot restarted while building this; nothing was saved. Press Retry to try again.',
    actions: [{ label: 'Retry', action: 'retry', value: retryId, style: 'primary' }],
    meta: { state: 'failed' },
  };
}

export function failureCard(what: string, reason: string, lastErrors: CheckError[] | undefined): Card {
  const errors = lastErrors?.slice(0, 5).map(formatCheckError) ?? [];
  return {
    title: `${what}: failed`,
    text: [reason, ...errors.map((e) => `• ${e}`)].join('\n'),
    meta: { state: 'failed' },
  };
}
