import { describe, expect, it } from 'vitest';
import { newId as newAppId } from '../../src/core/ids.ts';
import { openAppStore } from '../../src/store/open.ts';
import { appStoreContract, uniqueNamespace } from './app-store-contract.ts';

describe('AppStore on memory://', () => {
  const namespace = uniqueNamespace('mem');
  // One Map per instance: memory:// is for unit tests within one process.
  appStoreContract({ open: () => openAppStore('memory://', { namespace }), sharedBackend: false });
});

describe('openAppStore', () => {
  it('refuses an unknown URL scheme and a bad namespace', async () => {
    await expect(openAppStore('mysql://localhost/db')).rejects.toThrow(/unsupported store URL/);
    await expect(openAppStore('memory://', { namespace: 'a:b' })).rejects.toThrow(/namespace/);
  });

  it('does not echo a password from the URL', async () => {
    await expect(openAppStore('ftp://bob:hunter2@host/x')).rejects.toThrow(/bob:\*\*\*@host/);
  });
});

describe('newAppId', () => {
  it('makes 10 URL-safe characters, distinct across many calls', () => {
    const ids = Array.from({ length: 5000 }, newAppId);
    for (const id of ids) expect(id).toMatch(/^[0-9a-z]{10}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
