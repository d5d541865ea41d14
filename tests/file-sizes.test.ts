import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support/bot-process.ts';

/** Small files with one job: past this, a file is split by job (issue 21). */
const MAX_LINES = 300;
const CODE = /\.[cm]?[jt]s$/;

/** Lines as an editor numbers them: `wc -l`, plus a last line that has no newline. */
function lineCount(text: string): number {
  if (text === '') return 0;
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

function codeFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((p) => CODE.test(p) && !p.split(/[\\/]/).includes('node_modules'))
    .map((p) => join(dir, p));
}

describe('file sizes', () => {
  it('counts lines as an editor numbers them', () => {
    expect(lineCount('')).toBe(0);
    expect(lineCount('a\n')).toBe(1);
    expect(lineCount('a\nb')).toBe(2);
    expect(lineCount('a\n\nb\n')).toBe(3);
  });

  it('finds the code it measures', () => {
    const files = [...codeFiles('src'), ...codeFiles('adapters')];
    expect(files).toContain(join('src', 'app.ts'));
    expect(files).toContain(join('src', 'sandbox', 'parser-process.mjs'));
    expect(files).toContain(join('adapters', 'slack', 'slack-adapter.ts'));
  });

  it(`has no file in src/ or adapters/ over ${MAX_LINES} lines`, () => {
    const over = [...codeFiles('src'), ...codeFiles('adapters')]
      .map((file) => ({ file, lines: lineCount(readFileSync(join(ROOT, file), 'utf8')) }))
      .filter((f) => f.lines > MAX_LINES)
      .map((f) => `${f.file}: ${f.lines} lines`);
    expect(over).toEqual([]);
  });
});
