import { useEffect } from 'react';
import { Brain, Coffee, Pause, Play, RotateCcw, Sofa, type LucideIcon } from 'lucide-react';
import { MODES, formatTime, usePomodoro, type Mode } from './usePomodoro';

const ICONS: Record<Mode, LucideIcon> = { focus: Brain, short: Coffee, long: Sofa };
const ACCENT: Record<Mode, string> = {
  focus: 'text-rose-400',
  short: 'text-emerald-400',
  long: 'text-sky-400',
};

const RADIUS = 120;
const CIRCUMFERENCE = 2 * Math.PI * RADIUS;

export default function App() {
  const timer = usePomodoro();
  const Icon = ICONS[timer.mode];

  useEffect(() => {
    document.title = `${formatTime(timer.secondsLeft)} · ${MODES[timer.mode].label}`;
  }, [timer.secondsLeft, timer.mode]);

  return (
    <main className="min-h-screen bg-slate-950 text-slate-100 flex flex-col items-center justify-center gap-8 p-6">
      <h1 className="text-3xl font-semibold tracking-tight">Pomodoro Timer</h1>

      <div className="flex gap-2 rounded-full bg-slate-900 p-1 ring-1 ring-slate-800">
        {(Object.keys(MODES) as Mode[]).map((m) => (
          <button
            key={m}
            onClick={() => timer.switchTo(m)}
            className={`rounded-full px-4 py-2 text-sm transition ${
              timer.mode === m ? 'bg-slate-700 text-white' : 'text-slate-400 hover:text-slate-200'
            }`}
          >
            {MODES[m].label}
          </button>
        ))}
      </div>

      <div className="relative h-72 w-72">
        <svg viewBox="0 0 280 280" className="h-full w-full -rotate-90">
          <circle cx="140" cy="140" r={RADIUS} fill="none" strokeWidth="12" className="stroke-slate-800" />
          <circle
            cx="140"
            cy="140"
            r={RADIUS}
            fill="none"
            strokeWidth="12"
            strokeLinecap="round"
            stroke="currentColor"
            strokeDasharray={CIRCUMFERENCE}
            strokeDashoffset={CIRCUMFERENCE * (1 - timer.progress)}
            className={`${ACCENT[timer.mode]} transition-[stroke-dashoffset] duration-300`}
          />
        </svg>
        <div className="absolute inset-0 flex flex-col items-center justify-center gap-2">
          <Icon className={`h-7 w-7 ${ACCENT[timer.mode]}`} />
          <span className="font-mono text-6xl tabular-nums">{formatTime(timer.secondsLeft)}</span>
          <span className="text-sm uppercase tracking-widest text-slate-400">{MODES[timer.mode].label}</span>
        </div>
      </div>

      <div className="flex gap-4">
        <button
          onClick={timer.toggle}
          className="flex items-center gap-2 rounded-xl bg-rose-500 px-6 py-3 font-medium text-white shadow-lg shadow-rose-500/20 hover:bg-rose-400"
        >
          {timer.running ? <Pause className="h-5 w-5" /> : <Play className="h-5 w-5" />}
          {timer.running ? 'Pause' : 'Start'}
        </button>
        <button
          onClick={timer.reset}
          className="flex items-center gap-2 rounded-xl bg-slate-800 px-6 py-3 font-medium text-slate-200 hover:bg-slate-700"
        >
          <RotateCcw className="h-5 w-5" />
          Reset
        </button>
      </div>

      <p className="text-slate-400">
        Sessions completed today: <span className="font-semibold text-slate-100">{timer.completed}</span>
      </p>
    </main>
  );
}
