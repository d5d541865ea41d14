import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // fetch() resolves *.localhost (each app's own origin) to loopback, as browsers do.
    setupFiles: ['tests/support/localhost-dns.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests start real Vite servers and Chromium; two cores cannot take many at once.
    maxWorkers: 2,
  },
});
