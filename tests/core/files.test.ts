import { describe, expect, it } from 'vitest';
import { assertValidFiles, checkAppPath, checkFileCount, checkFileSize, MAX_FILE_BYTES, MAX_FILES } from '../../src/core/files.ts';

describe('app paths', () => {
  it('accepts files under src/ and normalises them', () => {
    expect(checkAppPath('src/App.tsx')).toEqual({ path: 'src/App.tsx' });
    expect(checkAppPath('./src//components/Timer.tsx')).toEqual({ path: 'src/components/Timer.tsx' });
    expect(checkAppPath('src\\index.css')).toEqual({ path: 'src/index.css' });
  });

  it.each([
    ['../../x', /contains "\.\."/],
    ['src/../../x.ts', /contains "\.\."/],
    ['/etc/passwd', /absolute/],
    ['C:/Windows/x.ts', /absolute/],
    ['package.json', /outside src\//],
    ['vite.config.ts', /outside src\//],
    ['src', /outside src\//],
    ['src/.env', /hidden/],
    ['src/run.sh', /allowed file types/],
    ['', /empty/],
  ])('refuses %s', (raw, why) => {
    const r = checkAppPath(raw);
    expect('error' in r && r.error).toMatch(/^path not allowed/);
    expect('error' in r && r.error).toMatch(why);
  });

  it('caps file size and count', () => {
    expect(checkFileSize('src/a.ts', 'x'.repeat(MAX_FILE_BYTES))).toBeUndefined();
    expect(checkFileSize('src/a.ts', 'x'.repeat(MAX_FILE_BYTES + 1))).toMatch(/too large/);
    const full = Object.fromEntries(Array.from({ length: MAX_FILES }, (_, i) => [`src/f${i}.ts`, '']));
    expect(checkFileCount(full, 'src/f0.ts')).toBeUndefined(); // editing an existing file is fine
    expect(checkFileCount(full, 'src/new.ts')).toMatch(/at most 40 files/);
  });

  it('validates a whole file map before it reaches a sandbox', () => {
    expect(() => assertValidFiles({ 'src/App.tsx': 'ok' })).not.toThrow();
    expect(() => assertValidFiles({ '../../x': 'no' })).toThrow(/path not allowed/);
    expect(() => assertValidFiles({ 'src//App.tsx': 'no' })).toThrow(/not normalised/);
  });
});
