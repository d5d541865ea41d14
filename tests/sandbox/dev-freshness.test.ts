// The creator's live view never stays on code it missed (issue 23's live view): a dev page says
// which source it was served from once its hot-reload socket is up, and is told to reload when
// src/ changed meanwhile (an update sent before its socket connected is not sent again by Vite).
// Spoken here over Vite's own HMR protocol, as the page's client speaks it.
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { sourceHash } from '../../src/core/apps/source-hash.ts';
import { needs } from '../support/needs.ts';
import { eventually, templateFiles, useLocalProvider } from './sandbox-test-kit.ts';

const app = (label: string) => ({
  ...templateFiles(),
  'src/App.tsx': `export default function App() { return <p>${label}</p>; }\n`,
});

describe.runIf(needs('template'))('the creator view catches up with writes it missed', () => {
  const local = useLocalProvider('vibe-dev-fresh-');

  it(
    'tells a page served from an older source to reload, and leaves a current one alone',
    { timeout: 60_000 },
    async () => {
      const old = app('Old');
      const { id, url } = await local().boot('fresh1', old);
      const dev = `${url}dev/`;
      // The page is served with the source it shows (in the inline module Vite serves beside the page).
      const html = await (await fetch(dev)).text();
      const inline = /src="([^"]*html-proxy[^"]*)"/.exec(html)?.[1];
      expect(inline).toBeTruthy();
      expect(await (await fetch(new URL(inline!.replaceAll('&amp;', '&'), dev))).text()).toContain(
        `"vibe:served", "${sourceHash(old)}"`,
      );
      const client = await (await fetch(`${dev}@vite/client`)).text();
      const token = /wsToken = "([^"]+)"/.exec(client)?.[1];
      expect(token).toBeTruthy();

      const now = app('New');
      expect(await local().write(id, now)).toEqual([]);
      // A page as Vite's client is: a socket that says which source it was served from.
      const pages: { ws: WebSocket; received: { type: string }[] }[] = [];
      const page = async (served: string) => {
        const ws = new WebSocket(`${dev.replace(/^http/, 'ws')}?token=${token}`, 'vite-hmr');
        const received: { type: string }[] = [];
        pages.push({ ws, received });
        ws.on('message', (m) => received.push(JSON.parse(String(m))));
        await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
        ws.send(JSON.stringify({ type: 'custom', event: 'vibe:served', data: served }));
        return received;
      };
      const reloads = (received: { type: string }[]) => received.filter((m) => m.type === 'full-reload').length;
      try {
        const current = await page(sourceHash(now)); // has what is on disk: nothing to do
        const stale = await page(sourceHash(old)); // loaded before the write: reload
        await eventually(() => reloads(stale) === 1, 10_000);
        // One answer per page: a page that asks again (it runs the app's code) is not heard.
        pages[0]!.ws.send(JSON.stringify({ type: 'custom', event: 'vibe:served', data: sourceHash(old) }));
        await new Promise((r) => setTimeout(r, 300));
        expect(reloads(current)).toBe(0);
        expect(reloads(stale)).toBe(1);
      } finally {
        for (const p of pages) p.ws.close();
      }
    },
  );
});
