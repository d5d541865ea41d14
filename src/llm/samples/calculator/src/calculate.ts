export type Operator = '+' | '−' | '×' | '÷';

export function apply(a: number, b: number, op: Operator): number {
  switch (op) {
    case '+':
      return a + b;
    case '−':
      return a - b;
    case '×':
      return a * b;
    case '÷':
      return b === 0 ? NaN : a / b;
  }
}

/** Trims float noise (0.1 + 0.2) and keeps long numbers readable. */
export function format(n: number): string {
  if (!Number.isFinite(n)) return 'Error';
  const rounded = Number.parseFloat(n.toPrecision(12));
  return Math.abs(rounded) >= 1e12 ? rounded.toExponential(6) : String(rounded);
}
