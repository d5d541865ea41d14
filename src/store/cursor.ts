import { UserError } from '../core/errors.ts';

/** Where a page starts in an index: older = slots at or below `slot`, newer = slots at or above it. */
export interface IndexCursor {
  dir: 'older' | 'newer';
  slot: number;
}

export function encodeCursor(c: IndexCursor): string {
  return Buffer.from(`${c.dir === 'older' ? 'o' : 'n'}:${c.slot}`).toString('base64url');
}

/** Cursors come back from chat buttons, so a mangled one is the user's problem, said plainly. */
export function decodeCursor(raw: string): IndexCursor {
  const m = /^([on]):(\d{1,15})$/.exec(Buffer.from(raw, 'base64url').toString('utf8'));
  if (!m) throw new UserError('That page link is not valid any more; open the list again.');
  return { dir: m[1] === 'o' ? 'older' : 'newer', slot: Number(m[2]) };
}
