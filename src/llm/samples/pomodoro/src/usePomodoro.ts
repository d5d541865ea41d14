import { useEffect, useRef, useState } from 'react';

export type Mode = 'focus' | 'short' | 'long';

export const MODES: Record<Mode, { label: string; minutes: number }> = {
  focus: { label: 'Focus', minutes: 25 },
  short: { label: 'Short break', minutes: 5 },
  long: { label: 'Long break', minutes: 15 },
};

/** Every fourth finished focus session earns a long break. */
const SESSIONS_PER_LONG_BREAK = 4;

export function usePomodoro() {
  const [mode, setMode] = useState<Mode>('focus');
  const [secondsLeft, setSecondsLeft] = useState(MODES.focus.minutes * 60);
  const [running, setRunning] = useState(false);
  const [completed, setCompleted] = useState(0);
  // The wall-clock end time keeps the countdown accurate even when the tab throttles timers.
  const endsAt = useRef<number | null>(null);

  const switchTo = (next: Mode) => {
    setMode(next);
    setSecondsLeft(MODES[next].minutes * 60);
    setRunning(false);
    endsAt.current = null;
  };

  useEffect(() => {
    if (!running) return;
    endsAt.current = Date.now() + secondsLeft * 1000;
    const id = window.setInterval(() => {
      const left = Math.max(0, Math.round(((endsAt.current ?? Date.now()) - Date.now()) / 1000));
      setSecondsLeft(left);
      if (left === 0) {
        window.clearInterval(id);
        if (mode === 'focus') {
          const done = completed + 1;
          setCompleted(done);
          switchTo(done % SESSIONS_PER_LONG_BREAK === 0 ? 'long' : 'short');
        } else {
          switchTo('focus');
        }
      }
    }, 250);
    return () => window.clearInterval(id);
    // secondsLeft is read only when starting; including it would restart the interval every tick.
  }, [running, mode]);

  const total = MODES[mode].minutes * 60;
  return {
    mode,
    secondsLeft,
    running,
    completed,
    progress: 1 - secondsLeft / total,
    toggle: () => setRunning((r) => !r),
    reset: () => switchTo(mode),
    switchTo,
  };
}

export function formatTime(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return `${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}
