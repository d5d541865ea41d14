import { describe, expect, it } from 'vitest';
import { AppLinks, isPublicOrigin } from '../../src/core/apps/app-links.ts';
import { liveCard, UNSTABLE_LINK } from '../../src/core/chat/cards.ts';
import { zeroUsage } from '../../src/core/limits/usage.ts';

describe('which link an app gets', () => {
  it('through the gateway: stable, whether or not a sandbox runs', () => {
    const links = new AppLinks({ base: 'https://vibe.example.com/', preferSandboxUrl: false });
    expect(links.forApp('abcd1234', 'https://x.modal.host/')).toEqual({
      open: 'https://vibe.example.com/apps/abcd1234/',
      creator: 'https://vibe.example.com/apps/abcd1234/dev/',
      stable: true,
    });
  });

  it("a sandbox's own URL where the gateway is private: not stable, and the card says so", () => {
    const links = new AppLinks({ base: 'http://127.0.0.1:8787', preferSandboxUrl: true });
    const tunnel = links.forApp('abcd1234', 'https://x.modal.host');
    expect(tunnel).toEqual({ open: 'https://x.modal.host/', creator: 'https://x.modal.host/dev/', stable: false });
    expect(links.forApp('abcd1234').stable).toBe(true); // asleep: the gateway link
    const app = {
      id: 'abcd1234',
      channelId: 'c',
      threadId: 't',
      ownerId: 'u',
      title: 'T',
      summary: 'S',
      prompt: '',
      createdAt: 0,
      updatedAt: 0,
      latestVersion: 1,
    };
    const version = {
      appId: app.id,
      number: 1,
      files: {},
      instruction: '',
      authorId: 'u',
      createdAt: 0,
      usage: zeroUsage(),
      model: 'm',
    };
    expect(liveCard(app, version, tunnel).text).toContain(UNSTABLE_LINK);
    expect(liveCard(app, version, links.forApp('abcd1234')).text).not.toContain(UNSTABLE_LINK);
  });

  it('tells a public origin from one only this network reaches', () => {
    for (const url of ['https://vibe.example.com', 'http://203.0.113.9:8787', 'https://[2001:db8::1]/'])
      expect(isPublicOrigin(url), url).toBe(true);
    for (const url of [
      'http://127.0.0.1:8787',
      'http://localhost:8787',
      'http://apps.localhost',
      'http://10.1.2.3',
      'http://172.20.0.1',
      'http://192.168.1.5:8787',
      'http://169.254.1.1',
      'http://100.64.0.1',
      'http://devbox:8787',
      'http://[::1]:8787',
      'http://[fd00::1]/',
      'http://printer.local',
    ])
      expect(isPublicOrigin(url), url).toBe(false);
  });
});
