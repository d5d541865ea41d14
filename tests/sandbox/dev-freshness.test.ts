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
      const received: { type: string }[] = [];
      const ws = new WebSocket(`${dev.replace(/^http/, 'ws')}?token=${token}`, 'vite-hmr');
      try {
        ws.on('message', (m) => received.push(JSON.parse(String(m))));
        await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
        const say = (served: string) => ws.send(JSON.stringify({ type: 'custom', event: 'vibe:served', data: served }));
        say(sourceHash(now)); // a page that has what is on disk: nothing to do
        say(sourceHash(old)); // one that loaded before the write: reload
        await eventually(() => received.some((m) => m.type === 'full-reload'), 10_000);
        await new Promise((r) => setTimeout(r, 300));
        expect(received.filter((m) => m.type === 'full-reload')).toHaveLength(1);
      } finally {
        ws.close();
      }
    },
  );
});
