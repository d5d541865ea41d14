import { describe, expect, it } from 'vitest';
import { openAppStore } from '../../src/store/open.ts';
import { appStoreContract, uniqueNamespace } from './app-store-contract.ts';
import { ci, reachable } from '../support/needs.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const { hostname, port } = new URL(REDIS_URL);
const available = await reachable(hostname, Number(port || 6379));

describe.runIf(available || ci)(`AppStore on Redis (${REDIS_URL})`, () => {
  const namespace = uniqueNamespace('redis');
  appStoreContract({ open: () => openAppStore(REDIS_URL, { namespace }), sharedBackend: true });
});

describe('Redis store startup', () => {
  it('fails fast when nothing listens', async () => {
    const started = Date.now();
    await expect(openAppStore('redis://127.0.0.1:1')).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
