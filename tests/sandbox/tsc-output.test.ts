import { describe, expect, it } from 'vitest';
import { parseTscOutput } from '../../src/sandbox/tsc-output.ts';

describe('parseTscOutput', () => {
  it('reads file, line, column and message, joining continuation lines', () => {
    const out = [
      "src/App.tsx(12,5): error TS2304: Cannot find name 'x'.",
      "/apps/a1/src/Timer.tsx(3,10): error TS2322: Type 'string' is not assignable to type 'number'.",
      "  Types of property 'a' are incompatible.",
      "error TS5083: Cannot read file '/apps/a1/tsconfig.json'.",
      '',
    ].join('\n');
    expect(parseTscOutput(out, '/apps/a1')).toEqual([
      { file: 'src/App.tsx', line: 12, column: 5, message: "TS2304: Cannot find name 'x'." },
      {
        file: 'src/Timer.tsx',
        line: 3,
        column: 10,
        message: "TS2322: Type 'string' is not assignable to type 'number'.\nTypes of property 'a' are incompatible.",
      },
      { file: '', line: 0, column: 0, message: "TS5083: Cannot read file '/apps/a1/tsconfig.json'." },
    ]);
  });

  it('returns nothing for clean output', () => {
    expect(parseTscOutput('', '/x')).toEqual([]);
  });
});
