import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TEMPLATE_DIR } from '../../src/template.ts';
import { templateImageCommands, templateSourceFiles } from '../../src/sandbox/modal-image.ts';

describe('the Modal sandbox image', () => {
  afterEach(() => vi.useRealTimers());

  it('is the same Dockerfile text every time (Modal caches its build), and keeps nothing in /tmp', () => {
    const first = templateImageCommands(TEMPLATE_DIR);
    vi.useFakeTimers({ now: Date.now() + 3_600_000 }); // an hour later, as on the next deploy
    expect(templateImageCommands(TEMPLATE_DIR)).toEqual(first);
    expect(first.filter((c) => c.includes('/tmp'))).toEqual([]);
  });

  it("bakes in the template (not node_modules), installs it with npm ci and pre-builds Vite's cache", () => {
    const files = templateSourceFiles(TEMPLATE_DIR);
    expect(Object.keys(files)).toEqual(
      expect.arrayContaining([
        'package.json',
        'package-lock.json',
        'vite.config.ts',
        'index.html',
        'libraries.json',
        'src/main.tsx',
        'src/App.tsx',
      ]),
    );
    expect(Object.keys(files).some((p) => p.includes('node_modules'))).toBe(false);
    const commands = templateImageCommands(TEMPLATE_DIR);
    expect(commands.slice(-3)).toEqual([
      'WORKDIR /app',
      'RUN npm ci --no-audit --no-fund',
      'RUN node node_modules/vite/bin/vite.js optimize --configLoader runner',
    ]);
    for (const c of commands) expect(c.length).toBeLessThan(17_000);
  });

  it('unpacks, with the same shell steps the image runs, to exactly the template files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vibe-image-'));
    try {
      const script = templateImageCommands(TEMPLATE_DIR)
        .filter((c) => /^RUN (printf|mkdir|base64) /.test(c))
        .map((c) => c.slice(4).replaceAll('/app', join(dir, 'app')))
        .join('\n');
      execFileSync('sh', ['-c', script]);
      for (const [path, text] of Object.entries(templateSourceFiles(TEMPLATE_DIR)))
        expect(readFileSync(join(dir, 'app', path), 'utf8')).toBe(text);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
