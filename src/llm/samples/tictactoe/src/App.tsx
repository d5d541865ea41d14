import { useEffect, useState } from 'react';
import { Bot, Circle, RotateCcw, Users, X } from 'lucide-react';
import { computerMove, findWinner, type Cell, type Player } from './rules';

const EMPTY: Cell[] = Array<Cell>(9).fill(null);

export default function App() {
  const [board, setBoard] = useState<Cell[]>(EMPTY);
  const [turn, setTurn] = useState<Player>('X');
  const [vsComputer, setVsComputer] = useState(true);
  const [score, setScore] = useState({ X: 0, O: 0, draw: 0 });

  const winner = findWinner(board);
  const full = board.every((c) => c !== null);
  const over = winner !== null || full;

  const play = (i: number) => {
    if (over || board[i] !== null) return;
    const next = board.slice();
    next[i] = turn;
    setBoard(next);
    const won = findWinner(next);
    if (won) setScore((s) => ({ ...s, [won.player]: s[won.player] + 1 }));
    else if (next.every((c) => c !== null)) setScore((s) => ({ ...s, draw: s.draw + 1 }));
    setTurn(turn === 'X' ? 'O' : 'X');
  };

  // The computer plays O, after a short pause so its move is visible.
  useEffect(() => {
    if (!vsComputer || turn !== 'O' || over) return;
    const id = window.setTimeout(() => play(computerMove(board, 'O')), 400);
    return () => window.clearTimeout(id);
  });

  const newRound = () => {
    setBoard(EMPTY);
    setTurn('X');
  };

  const status = winner
    ? `${winner.player} wins!`
    : full
      ? "It's a draw"
      : vsComputer && turn === 'O'
        ? 'Computer is thinking…'
        : `${turn} to move`;

  return (
    <main className="flex min-h-screen flex-col items-center justify-center gap-6 bg-gradient-to-br from-violet-600 to-fuchsia-600 p-6 text-white">
      <h1 className="text-4xl font-extrabold tracking-tight drop-shadow">Tic-Tac-Toe</h1>

      <div className="flex gap-6 text-center">
        <Score label={vsComputer ? 'X (you)' : 'X'} value={score.X} />
        <Score label="Draws" value={score.draw} />
        <Score label={vsComputer ? 'O (computer)' : 'O'} value={score.O} />
      </div>

      <p className="h-7 text-lg font-medium" aria-live="polite">
        {status}
      </p>

      <div className="grid grid-cols-3 gap-3 rounded-3xl bg-white/10 p-3 backdrop-blur">
        {board.map((cell, i) => {
          const highlight = winner?.line.includes(i) ?? false;
          return (
            <button
              key={i}
              onClick={() => (!vsComputer || turn === 'X') && play(i)}
              aria-label={`Square ${i + 1}${cell ? `, ${cell}` : ''}`}
              className={`flex h-24 w-24 items-center justify-center rounded-2xl transition ${
                highlight ? 'bg-amber-300 text-violet-900' : 'bg-white/90 text-violet-700 hover:bg-white'
              }`}
            >
              {cell === 'X' && <X className="h-14 w-14" strokeWidth={3} />}
              {cell === 'O' && <Circle className="h-12 w-12" strokeWidth={3} />}
            </button>
          );
        })}
      </div>

      <div className="flex gap-3">
        <button
          onClick={newRound}
          className="flex items-center gap-2 rounded-xl bg-white/20 px-4 py-2 font-medium hover:bg-white/30"
        >
          <RotateCcw className="h-4 w-4" /> New round
        </button>
        <button
          onClick={() => {
            setVsComputer(!vsComputer);
            newRound();
          }}
          className="flex items-center gap-2 rounded-xl bg-white/20 px-4 py-2 font-medium hover:bg-white/30"
        >
          {vsComputer ? <Users className="h-4 w-4" /> : <Bot className="h-4 w-4" />}
          {vsComputer ? 'Play a friend' : 'Play the computer'}
        </button>
      </div>
    </main>
  );
}

function Score({ label, value }: { label: string; value: number }) {
  return (
    <div className="min-w-24 rounded-2xl bg-white/15 px-4 py-2">
      <div className="text-3xl font-bold">{value}</div>
      <div className="text-xs uppercase tracking-wider text-white/80">{label}</div>
    </div>
  );
}
