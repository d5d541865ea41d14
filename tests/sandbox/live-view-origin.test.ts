import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalSandboxProvider } from '../../src/sandbox/local.ts';
import { needs } from '../support/needs.ts';
import { recordingLogger, tempDir, templateDir, templateFiles } from './sandbox-test-kit.ts';

// Issue 20, item 5, at the sandbox itself: the template's Vite server (server.cors) grants no
// other origin a read of the live view. Vite's default echoes any *.localhost origin, so a page
// of otherapp.localhost could read <id>.localhost/dev/src/App.tsx.

function get(url: string, headers: Record<string, string>, method = 'GET') {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the live view grants no other origin a read', () => {
  let apps: Awaited<ReturnType<typeof tempDir>>;
  let provider: LocalSandboxProvider;
  let url = '';

  beforeAll(async () => {
    apps = await tempDir('vibe-origin-');
    provider = new LocalSandboxProvider({
      appsDir: apps.path,
      templateDir,
      logger: recordingLogger(),
      isolation: needs('bwrap') ? 'bwrap' : 'none',
    });
    const files = { ...templateFiles(), 'src/App.tsx': 'export default function App() { return <h1>secret</h1>; }\n' };
    url = (await provider.boot('origin01', files)).url;
  }, 120_000);
  afterAll(async () => {
    await provider?.stopAll();
    await apps?.remove();
  });

  it('answers another app’s origin without Access-Control-Allow-Origin, preflight included', async () => {
    const source = `${url}dev/src/App.tsx`;
    for (const origin of ['http://otherapp.localhost:8787', 'http://127.0.0.1:9999', 'null']) {
      const res = await get(source, { origin });
      expect(res.headers['access-control-allow-origin'], origin).toBeUndefined();
      const preflight = await get(
        source,
        { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-probe' },
        'OPTIONS',
      );
      expect(preflight.headers['access-control-allow-origin'], origin).toBeUndefined();
    }
    // The sandbox's own pages read it as before.
    const own = await get(source, {});
    expect(own.status).toBe(200);
    expect(own.body).toContain('secret');
  });
});
