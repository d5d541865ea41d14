export type Player = 'X' | 'O';
export type Cell = Player | null;

const LINES = [
  [0, 1, 2],
  [3, 4, 5],
  [6, 7, 8],
  [0, 3, 6],
  [1, 4, 7],
  [2, 5, 8],
  [0, 4, 8],
  [2, 4, 6],
] as const;

/** The winner and the winning line, if any. */
export function findWinner(board: Cell[]): { player: Player; line: readonly number[] } | null {
  for (const line of LINES) {
    const [a, b, c] = line;
    const p = board[a];
    if (p && p === board[b] && p === board[c]) return { player: p, line };
  }
  return null;
}

/**
 * A modest computer player: win if it can, block if it must, else centre, corner, anything.
 * Beatable on purpose, so the game stays fun.
 */
export function computerMove(board: Cell[], me: Player): number {
  const them: Player = me === 'X' ? 'O' : 'X';
  const free = board.flatMap((c, i) => (c === null ? [i] : []));
  for (const who of [me, them]) {
    for (const i of free) {
      const trial = board.slice();
      trial[i] = who;
      if (findWinner(trial)) return i;
    }
  }
  if (free.includes(4)) return 4;
  const corners = [0, 2, 6, 8].filter((i) => free.includes(i));
  const pool = corners.length > 0 ? corners : free;
  return pool[Math.floor(Math.random() * pool.length)] ?? -1;
}
