import { describe, expect, it } from 'vitest';
import {
  assertValidFiles,
  caseTwin,
  checkAppPath,
  checkFileCount,
  checkFileSize,
  MAX_FILE_BYTES,
  MAX_FILES,
} from '../../src/core/files.ts';

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

describe('the path grammar (letters, digits, _ . -; at most 64 per segment, 99 bytes in all; NFC)', () => {
  it.each([
    ['a newline', 'src/App\n.tsx', /control or formatting/],
    ['a carriage return', 'src/a\rb.tsx', /control or formatting/],
    ['a trailing newline', 'src/App.tsx\n', /control or formatting/],
    ['a NUL', 'src/a\u0000.tsx', /control or formatting/],
    ['a right-to-left override', 'src/\u202Egnp.tsx', /control or formatting/],
    ['a zero-width joiner', 'src/a\u200Db.tsx', /control or formatting/],
    ['a space', 'src/my file.tsx', /invalid name/],
    ['a quote', "src/it's.tsx", /invalid name/],
    ['a 65-character segment', `src/${'a'.repeat(61)}.tsx`, /longer than 64 characters/],
    ['a 300-character segment', `src/${'a'.repeat(296)}.tsx`, /longer than 64 characters/],
    ['a path over 99 bytes', `src/${'a'.repeat(60)}/${'b'.repeat(40)}.tsx`, /longer than 99 bytes/],
    ['a path over 99 bytes in UTF-8', `src/${'é'.repeat(50)}.tsx`, /longer than 99 bytes/],
  ])('refuses %s', (_name, raw, why) => {
    const r = checkAppPath(raw);
    expect('error' in r && r.error).toMatch(/^path not allowed/);
    expect('error' in r && r.error).toMatch(why);
    // The message shows control characters escaped, never raw.
    expect('error' in r && /[\n\r\u0000\u202E]/.test(r.error)).toBe(false);
  });

  it('normalises to NFC, so the two spellings of é are one file', () => {
    const nfd = 'src/Cafe\u0301.tsx';
    const nfc = 'src/Caf\u00e9.tsx';
    expect(checkAppPath(nfd)).toEqual({ path: nfc });
    expect(checkAppPath(nfc)).toEqual({ path: nfc });
    expect(() => assertValidFiles({ [nfd]: 'x' })).toThrow(/not normalised/);
  });

  it('refuses two files that differ only in letter case', () => {
    expect(caseTwin({ 'src/app.tsx': '' }, 'src/App.tsx')).toBe('src/app.tsx');
    expect(caseTwin({ 'src/App.tsx': '' }, 'src/App.tsx')).toBeUndefined();
    expect(() => assertValidFiles({ 'src/App.tsx': 'a', 'src/app.tsx': 'b' })).toThrow(/differ only in letter case/);
  });

  it('accepts ordinary names, including letters beyond ASCII', () => {
    for (const p of [
      'src/App.tsx',
      'src/components/time-picker_v2.tsx',
      'src/données.json',
      `src/${'a'.repeat(60)}.tsx`,
    ])
      expect(checkAppPath(p)).toEqual({ path: p });
  });
});
