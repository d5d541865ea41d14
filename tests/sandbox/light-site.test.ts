// The light view's site (sandbox-template/vibe-plugins/light-site.ts): the bot waiting for the
// build of a source gets it as soon as it is made, not after it is compressed for viewers, and a
// library chunk that every build has byte for byte is compressed once, not once per build.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LightSite } from '../../sandbox-template/vibe-plugins/light-site.ts';
import { compress } from '../../sandbox-template/vibe-plugins/encoding.ts';

const page = (n: number) => ({ path: 'index.html', body: Buffer.from(`<!doctype html><head></head><p>${n}</p>`) });
const chunk = { path: 'assets/react-abc123.js', body: Buffer.from('export const react = 1;\n'.repeat(200)) };

describe('the light site', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function serve(site: LightSite): Promise<string> {
    const server = http.createServer((req, res) => void site.serve(req, res, (req.url ?? '/').slice(1).split('?')[0]!));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it("hands the bot a build before viewers' compressed copies are made", async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    // Compression that waits until the test lets it go.
    const site = new LightSite(
      '/',
      9,
      async (body, encoding, quality) => (await held, compress(body, encoding, quality)),
    );
    const url = await serve(site);
    const asked = fetch(`${url}/__vibe/build?source=s1`);
    await new Promise((r) => setTimeout(r, 50)); // the request is waiting in the site
    let published = false;
    const publishing = site.publish([page(1), chunk], 's1').then(() => (published = true));
    const res = await asked;
    expect(res.status).toBe(200);
    expect(published).toBe(false); // viewers' copies are still being compressed
    expect(site.version).toBeUndefined(); // and viewers still get the starting page
    release();
    await publishing;
    expect(site.version).toMatch(/^[0-9a-f]{12}$/);
  });

  it('compresses a library chunk that the next build has byte for byte only once', async () => {
    const squeezed: string[] = [];
    const site = new LightSite('/', 9, (body, encoding, quality) => {
      squeezed.push(body.length > 1000 ? 'chunk' : 'page');
      return compress(body, encoding, quality);
    });
    await site.publish([page(1), chunk], 's1');
    await site.publish([page(2), chunk], 's2');
    expect(squeezed.filter((s) => s === 'chunk')).toHaveLength(1);
    // A chunk of the same name with other bytes is compressed anew.
    await site.publish([page(3), { ...chunk, body: Buffer.from('export const react = 2;\n'.repeat(200)) }], 's3');
    expect(squeezed.filter((s) => s === 'chunk')).toHaveLength(2);
    // Viewers get the newest bytes.
    const url = await serve(site);
    const res = await fetch(`${url}/${chunk.path}`, { headers: { 'accept-encoding': 'br' } });
    expect(await res.text()).toContain('react = 2');
  });
});
