import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SYNC_SCRIPT } from '../../src/sandbox/modal-exec.ts';
import { tarFiles } from '../../src/sandbox/tar.ts';

// The shell step that makes a sandbox's src/ exactly the written files, run here with sh and
// tar as the sandbox runs it (one tar on stdin, one exec).

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function sync(app: string, files: Record<string, string>) {
  const r = spawnSync('sh', ['-c', SYNC_SCRIPT], { cwd: app, input: tarFiles(files) });
  expect(r.status, r.stderr.toString()).toBe(0);
}

describe('the Modal write step', () => {
  it('adds, replaces and removes files, touching only what changed', async () => {
    const app = mkdtempSync(join(tmpdir(), 'vibe-sync-'));
    dirs.push(app);
    mkdirSync(join(app, 'src', 'old'), { recursive: true });
    writeFileSync(join(app, 'src', 'main.tsx'), 'main');
    writeFileSync(join(app, 'src', 'App.tsx'), 'v1');
    writeFileSync(join(app, 'src', 'old', 'Gone.tsx'), 'gone');
    writeFileSync(join(app, 'package.json'), '{}');
    const before = statSync(join(app, 'src', 'main.tsx')).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));
    sync(app, { 'src/main.tsx': 'main', 'src/App.tsx': 'v2 ✓', 'src/components/New Thing.tsx': 'new' });
    expect(readFileSync(join(app, 'src', 'App.tsx'), 'utf8')).toBe('v2 ✓');
    expect(readFileSync(join(app, 'src', 'components', 'New Thing.tsx'), 'utf8')).toBe('new');
    expect(statSync(join(app, 'src', 'main.tsx')).mtimeMs).toBe(before); // unchanged: not rewritten
    expect(existsSync(join(app, 'src', 'old'))).toBe(false);
    expect(existsSync(join(app, 'package.json'))).toBe(true); // outside src/: untouched
    expect(existsSync(join(app, '.incoming'))).toBe(false);
    expect(existsSync(join(app, '.manifest'))).toBe(false);
  });
});
