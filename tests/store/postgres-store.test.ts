import { describe, expect, it } from 'vitest';
import { openAppStore } from '../../src/store/open.ts';
import { appStoreContract, uniqueNamespace } from './app-store-contract.ts';
import { ci, reachable } from '../support/needs.ts';

const PG_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const { hostname, port } = new URL(PG_URL);
const available = await reachable(hostname, Number(port || 5432));

describe.runIf(available || ci)(`AppStore on PostgreSQL (${PG_URL})`, () => {
  const namespace = uniqueNamespace('pg');
  appStoreContract({ open: () => openAppStore(PG_URL, { namespace }), sharedBackend: true });
});

describe('PostgreSQL store startup', () => {
  it('fails fast when nothing listens', async () => {
    const started = Date.now();
    await expect(openAppStore('postgres://postgres@127.0.0.1:1/test')).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
