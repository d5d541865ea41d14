import { useCallback, useEffect, useState } from 'react';
import { Delete } from 'lucide-react';
import { apply, format, type Operator } from './calculate';

interface State {
  display: string;
  stored: number | null;
  op: Operator | null;
  /** The next digit starts a new number instead of extending the display. */
  fresh: boolean;
  expression: string;
}

const START: State = { display: '0', stored: null, op: null, fresh: true, expression: '' };

const KEY_MAP: Record<string, string> = {
  '*': '×',
  '/': '÷',
  '-': '−',
  '+': '+',
  Enter: '=',
  '=': '=',
  Escape: 'C',
  Backspace: '⌫',
  Delete: 'C',
  c: 'C',
  '%': '%',
  ',': '.',
};

const ROWS = [
  ['C', '±', '%', '÷'],
  ['7', '8', '9', '×'],
  ['4', '5', '6', '−'],
  ['1', '2', '3', '+'],
  ['0', '.', '⌫', '='],
];

function press(s: State, key: string): State {
  if (/^\d$/.test(key)) {
    if (s.fresh) return { ...s, display: key, fresh: false };
    return { ...s, display: s.display === '0' ? key : s.display + key };
  }
  if (key === '.') {
    if (s.fresh) return { ...s, display: '0.', fresh: false };
    return s.display.includes('.') ? s : { ...s, display: s.display + '.' };
  }
  const value = Number.parseFloat(s.display);
  switch (key) {
    case 'C':
      return START;
    case '⌫':
      return s.fresh ? s : { ...s, display: s.display.length > 1 ? s.display.slice(0, -1) : '0' };
    case '±':
      return { ...s, display: format(-value) };
    case '%':
      return { ...s, display: format(value / 100) };
    case '=': {
      if (s.op === null || s.stored === null) return s;
      const result = format(apply(s.stored, value, s.op));
      return {
        display: result,
        stored: null,
        op: null,
        fresh: true,
        expression: `${format(s.stored)} ${s.op} ${format(value)} =`,
      };
    }
    default: {
      const op = key as Operator;
      // Chained operators evaluate left to right, like a pocket calculator.
      const stored = s.op !== null && s.stored !== null && !s.fresh ? apply(s.stored, value, s.op) : value;
      return { display: format(stored), stored, op, fresh: true, expression: `${format(stored)} ${op}` };
    }
  }
}

export default function App() {
  const [state, setState] = useState<State>(START);
  const onKey = useCallback((key: string) => setState((s) => press(s.display === 'Error' ? START : s, key)), []);

  useEffect(() => {
    const handler = (e: KeyboardEvent) => {
      const key = /^\d$/.test(e.key) || e.key === '.' ? e.key : KEY_MAP[e.key];
      if (key) {
        e.preventDefault();
        onKey(key);
      }
    };
    window.addEventListener('keydown', handler);
    return () => window.removeEventListener('keydown', handler);
  }, [onKey]);

  return (
    <main className="flex min-h-screen flex-col items-center justify-center gap-6 bg-zinc-900 p-6">
      <h1 className="text-2xl font-semibold text-zinc-100">Calculator</h1>
      <div className="w-80 rounded-3xl bg-zinc-800 p-5 shadow-2xl ring-1 ring-zinc-700">
        <div className="mb-4 rounded-2xl bg-zinc-950 px-4 py-3 text-right">
          <div className="h-5 truncate text-sm text-zinc-500">{state.expression}</div>
          <div className="truncate font-mono text-4xl text-white" data-testid="display">
            {state.display}
          </div>
        </div>
        <div className="grid grid-cols-4 gap-3">
          {ROWS.flat().map((key) => {
            const isOp = ['÷', '×', '−', '+', '='].includes(key);
            const isFn = ['C', '±', '%'].includes(key);
            return (
              <button
                key={key}
                onClick={() => onKey(key)}
                aria-label={key === '⌫' ? 'Backspace' : key}
                className={`flex h-16 items-center justify-center rounded-2xl text-xl font-medium transition active:scale-95 ${
                  isOp
                    ? `bg-amber-500 text-white hover:bg-amber-400 ${state.op === key && state.fresh ? 'ring-2 ring-white' : ''}`
                    : isFn
                      ? 'bg-zinc-600 text-zinc-100 hover:bg-zinc-500'
                      : 'bg-zinc-700 text-zinc-100 hover:bg-zinc-600'
                }`}
              >
                {key === '⌫' ? <Delete className="h-6 w-6" /> : key}
              </button>
            );
          })}
        </div>
      </div>
      <p className="text-sm text-zinc-500">Tip: your keyboard works too.</p>
    </main>
  );
}
