import { describe, expect, it } from 'vitest';
import { MAX_FILE_BYTES, MAX_FILES } from '../../src/core/files.ts';
import type { FileMap } from '../../src/core/ports/index.ts';
import { runTextEditor } from '../../src/llm/text-editor.ts';

const app = (): FileMap => ({
  'src/App.tsx': 'export default function App() {\n  return <h1>Hi</h1>;\n}\n',
  'src/index.css': '@import "tailwindcss";\n',
  'src/components/Timer.tsx': 'export const Timer = () => null;\n',
});

describe('view', () => {
  it('shows a file with line numbers', () => {
    const r = runTextEditor(app(), { command: 'view', path: 'src/App.tsx' });
    expect(r.isError).toBe(false);
    expect(r.output).toBe('     1\texport default function App() {\n     2\t  return <h1>Hi</h1>;\n     3\t}');
  });

  it('honours view_range, with -1 meaning to the end', () => {
    expect(runTextEditor(app(), { command: 'view', path: 'src/App.tsx', view_range: [2, 2] }).output).toBe(
      '     2\t  return <h1>Hi</h1>;',
    );
    expect(runTextEditor(app(), { command: 'view', path: 'src/App.tsx', view_range: [2, -1] }).output).toBe(
      '     2\t  return <h1>Hi</h1>;\n     3\t}',
    );
  });

  it('refuses a bad view_range', () => {
    const r = runTextEditor(app(), { command: 'view', path: 'src/App.tsx', view_range: [9, 12] });
    expect(r.isError).toBe(true);
    expect(r.output).toContain('start_line must be between 1 and 3');
    expect(runTextEditor(app(), { command: 'view', path: 'src/App.tsx', view_range: [3, 2] }).isError).toBe(true);
  });

  it('lists src and sub-directories', () => {
    const all = runTextEditor(app(), { command: 'view', path: 'src' });
    expect(all.isError).toBe(false);
    expect(all.output).toContain('src/App.tsx (');
    expect(all.output).toContain('src/components/Timer.tsx (');
    const sub = runTextEditor(app(), { command: 'view', path: 'src/components/' });
    expect(sub.output).toContain('src/components/Timer.tsx');
    expect(sub.output).not.toContain('src/App.tsx');
  });

  it('reports a missing file with the files that exist', () => {
    const r = runTextEditor(app(), { command: 'view', path: 'src/Nope.tsx' });
    expect(r.isError).toBe(true);
    expect(r.output).toContain('src/Nope.tsx does not exist');
    expect(r.output).toContain('src/App.tsx');
  });
});

describe('create', () => {
  it('creates a file without touching the input map', () => {
    const files = app();
    const r = runTextEditor(files, { command: 'create', path: 'src/hooks/useTimer.ts', file_text: 'export {};\n' });
    expect(r).toMatchObject({ isError: false, changed: 'src/hooks/useTimer.ts' });
    expect(r.files['src/hooks/useTimer.ts']).toBe('export {};\n');
    expect(files['src/hooks/useTimer.ts']).toBeUndefined();
  });

  it('normalises the path it writes', () => {
    const r = runTextEditor(app(), { command: 'create', path: './src//Note.md', file_text: 'hi' });
    expect(r.changed).toBe('src/Note.md');
    expect(Object.keys(r.files)).toContain('src/Note.md');
  });

  it('overwrites an existing file', () => {
    const r = runTextEditor(app(), { command: 'create', path: 'src/App.tsx', file_text: 'x' });
    expect(r.isError).toBe(false);
    expect(r.output).toContain('overwritten');
    expect(r.files['src/App.tsx']).toBe('x');
  });

  it('requires file_text', () => {
    const r = runTextEditor(app(), { command: 'create', path: 'src/A.tsx' });
    expect(r.isError).toBe(true);
    expect(r.output).toContain('file_text');
  });
});

describe('path refusals', () => {
  it.each([
    ['../../x', 'contains ".."'],
    ['src/../../x.ts', 'contains ".."'],
    ['/etc/passwd', 'absolute'],
    ['/src/App.tsx', 'absolute'],
    ['package.json', 'outside src/'],
    ['index.html', 'outside src/'],
    ['src/.env.ts', 'hidden'],
    ['src/run.sh', 'allowed file types'],
  ])('refuses %s and writes nothing', (path, reason) => {
    const files = app();
    for (const input of [
      { command: 'create', path, file_text: 'pwned' },
      { command: 'str_replace', path, old_str: 'a', new_str: 'b' },
      { command: 'insert', path, insert_line: 0, insert_text: 'x' },
      { command: 'view', path },
    ]) {
      const r = runTextEditor(files, input);
      expect(r.isError, JSON.stringify(input)).toBe(true);
      expect(r.output).toContain('path not allowed');
      expect(r.output).toContain(reason);
      expect(r.files).toBe(files);
      expect(r.changed).toBeUndefined();
    }
  });

  it(`refuses a file beyond the ${MAX_FILES}-file cap but allows overwriting at the cap`, () => {
    const files: FileMap = {};
    for (let i = 0; i < MAX_FILES; i++) files[`src/f${i}.ts`] = 'export {};\n';
    const r = runTextEditor(files, { command: 'create', path: 'src/one-more.ts', file_text: '' });
    expect(r.isError).toBe(true);
    expect(r.output).toContain('too many files');
    expect(r.files['src/one-more.ts']).toBeUndefined();
    expect(runTextEditor(files, { command: 'create', path: 'src/f0.ts', file_text: 'x' }).isError).toBe(false);
  });

  it('refuses a file one byte over the size cap, accepts one at the cap', () => {
    const over = runTextEditor(app(), {
      command: 'create',
      path: 'src/big.ts',
      file_text: 'a'.repeat(MAX_FILE_BYTES + 1),
    });
    expect(over.isError).toBe(true);
    expect(over.output).toContain('file too large');
    expect(over.files['src/big.ts']).toBeUndefined();
    expect(
      runTextEditor(app(), { command: 'create', path: 'src/big.ts', file_text: 'a'.repeat(MAX_FILE_BYTES) }).isError,
    ).toBe(false);
  });

  it('refuses a str_replace that would push a file over the size cap', () => {
    const r = runTextEditor(app(), {
      command: 'str_replace',
      path: 'src/index.css',
      old_str: 'tailwindcss',
      new_str: 'a'.repeat(MAX_FILE_BYTES),
    });
    expect(r.isError).toBe(true);
    expect(r.output).toContain('file too large');
  });
});

describe('str_replace', () => {
  it('replaces exactly one match and shows the edited lines', () => {
    const r = runTextEditor(app(), {
      command: 'str_replace',
      path: 'src/App.tsx',
      old_str: '<h1>Hi</h1>',
      new_str: '<h1>Hello</h1>',
    });
    expect(r).toMatchObject({ isError: false, changed: 'src/App.tsx' });
    expect(r.files['src/App.tsx']).toContain('<h1>Hello</h1>');
    expect(r.output).toContain('     2\t  return <h1>Hello</h1>;');
  });

  it('treats a missing new_str as deletion', () => {
    const r = runTextEditor(app(), { command: 'str_replace', path: 'src/App.tsx', old_str: '  return <h1>Hi</h1>;\n' });
    expect(r.files['src/App.tsx']).toBe('export default function App() {\n}\n');
  });

  it('errors when nothing matches', () => {
    const files = app();
    const r = runTextEditor(files, {
      command: 'str_replace',
      path: 'src/App.tsx',
      old_str: '<h2>Hi</h2>',
      new_str: 'x',
    });
    expect(r.isError).toBe(true);
    expect(r.output).toContain('No match found for replacement text in src/App.tsx');
    expect(r.files).toBe(files);
  });

  it('errors when the text matches more than once', () => {
    const files = { 'src/a.ts': 'x = 1;\nx = 1;\nx = 1;\n' };
    const r = runTextEditor(files, { command: 'str_replace', path: 'src/a.ts', old_str: 'x = 1;', new_str: 'y' });
    expect(r.isError).toBe(true);
    expect(r.output).toContain('Found 3 matches for replacement text in src/a.ts');
  });

  it('errors on a missing file or an empty old_str', () => {
    expect(
      runTextEditor(app(), { command: 'str_replace', path: 'src/B.tsx', old_str: 'a', new_str: 'b' }).output,
    ).toContain('does not exist');
    expect(
      runTextEditor(app(), { command: 'str_replace', path: 'src/App.tsx', old_str: '', new_str: 'b' }).output,
    ).toContain('old_str');
  });
});

describe('insert', () => {
  it('inserts after a line with insert_text', () => {
    const r = runTextEditor(app(), {
      command: 'insert',
      path: 'src/App.tsx',
      insert_line: 1,
      insert_text: '  const n = 1;',
    });
    expect(r).toMatchObject({ isError: false, changed: 'src/App.tsx' });
    expect(r.files['src/App.tsx']).toBe('export default function App() {\n  const n = 1;\n  return <h1>Hi</h1>;\n}\n');
  });

  it('accepts new_str (older tool versions) and line 0 / the last line', () => {
    const top = runTextEditor(app(), {
      command: 'insert',
      path: 'src/index.css',
      insert_line: 0,
      new_str: '/* top */\n',
    });
    expect(top.files['src/index.css']).toBe('/* top */\n@import "tailwindcss";\n');
    const end = runTextEditor(app(), {
      command: 'insert',
      path: 'src/index.css',
      insert_line: 1,
      insert_text: 'body {}',
    });
    expect(end.files['src/index.css']).toBe('@import "tailwindcss";\nbody {}\n');
  });

  it('refuses a line outside the file', () => {
    const r = runTextEditor(app(), { command: 'insert', path: 'src/App.tsx', insert_line: 4, insert_text: 'x' });
    expect(r.isError).toBe(true);
    expect(r.output).toContain('between 0 and 3');
    expect(
      runTextEditor(app(), { command: 'insert', path: 'src/App.tsx', insert_line: -1, insert_text: 'x' }).isError,
    ).toBe(true);
  });
});

describe('other input', () => {
  it('refuses unknown commands and non-object input', () => {
    const undo = runTextEditor(app(), { command: 'undo_edit', path: 'src/App.tsx' });
    expect(undo.isError).toBe(true);
    expect(undo.output).toContain('unknown command "undo_edit"');
    expect(runTextEditor(app(), 'view src/App.tsx').isError).toBe(true);
    expect(runTextEditor(app(), { path: 'src/App.tsx' }).isError).toBe(true);
  });

  it('refuses writing over a directory', () => {
    const r = runTextEditor(app(), { command: 'create', path: 'src/components', file_text: 'x' });
    expect(r.isError).toBe(true);
  });
});
