// React is built once per sandbox (vibe-plugins/vendor-chunks.ts), not in every light build: the
// files must stand for the packages (every named export, the default), be the same bytes every
// time (a published build stores them once across apps), and each build must import them.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { buildVendorChunks, VENDOR_MODULES } from '../../sandbox-template/vibe-plugins/vendor-chunks.ts';
import { sourceHash } from '../../src/core/apps/source-hash.ts';
import { TEMPLATE_DIR } from '../../src/template.ts';
import { needs } from '../support/needs.ts';
import { templateFiles, useLocalProvider } from './sandbox-test-kit.ts';

// As in the build child, which runs with it: the files' exports are read from React's production build.
process.env.NODE_ENV = 'production';

describe.runIf(needs('template'))('vendor chunks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vibe-vendor-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stand for React as ES modules, the same bytes every time', { timeout: 60_000 }, async () => {
    const first = await buildVendorChunks(TEMPLATE_DIR);
    const again = await buildVendorChunks(TEMPLATE_DIR);
    expect([...first.entries.keys()].sort()).toEqual([...VENDOR_MODULES].sort());
    expect(again.files.map((f) => [f.path, f.body.toString('base64')])).toEqual(
      first.files.map((f) => [f.path, f.body.toString('base64')]),
    );
    for (const f of first.files) expect(f.path).toMatch(/^assets\/[\w-]+\.js$/);

    // Loaded as they are (ES modules importing each other), they export what apps import.
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    for (const f of first.files) {
      mkdirSync(dirname(join(dir, f.path)), { recursive: true });
      writeFileSync(join(dir, f.path), f.body);
    }
    const load = (m: string) => import(pathToFileURL(join(dir, first.entries.get(m)!)).href);
    const react = await load('react');
    expect(typeof react.useState).toBe('function');
    expect(react.default.useState).toBe(react.useState);
    const runtime = await load('react/jsx-runtime');
    expect(typeof runtime.jsx).toBe('function');
    expect(runtime.Fragment).toBe(react.Fragment);
    expect(typeof (await load('react-dom/client')).createRoot).toBe('function');
    expect(typeof (await load('react-dom')).createPortal).toBe('function');
    // Production React: no development-only warnings code.
    expect(first.files.map((f) => f.body.toString()).join('')).not.toContain('is deprecated and will be removed');
  });

  describe('in a light build', () => {
    const local = useLocalProvider('vibe-vendor-build-');

    it('each build imports them and carries them along, React not bundled again', { timeout: 150_000 }, async () => {
      const files = { ...templateFiles(), 'src/App.tsx': readFileSync(join(TEMPLATE_DIR, 'src', 'App.tsx'), 'utf8') };
      const { id } = await local().boot('vendor1', files);
      const built = await local().lightBuild(id, sourceHash(files));
      const vendor = await buildVendorChunks(TEMPLATE_DIR);
      for (const f of vendor.files) expect(Buffer.from(built.get(f.path)!).equals(f.body)).toBe(true);
      const entry = [...built.keys()].find((p) => /^assets\/index-[\w-]+\.js$/.test(p))!;
      const code = Buffer.from(built.get(entry)!).toString();
      expect(code).toContain(`from"./${vendor.entries.get('react-dom/client')!.slice('assets/'.length)}"`);
      expect(code.length).toBeLessThan(20_000); // the app and its lucide icons, not React
      const html = Buffer.from(built.get('index.html')!).toString();
      expect(html).toContain(`rel="modulepreload" crossorigin href="/apps/vendor1/${vendor.entries.get('react')}"`);
    });
  });
});
