import { defineConfig } from '@playwright/test';

/**
 * End-to-end tests in Debian's Chromium (`apt-get install chromium`), never a downloaded browser.
 * They run against the production build in `dist/` (`npm test` builds it first).
 */
export default defineConfig({
  testDir: 'test/e2e',
  timeout: 90_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  // Two cores: one browser at a time keeps TF.js timings (and the machine) sane.
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    browserName: 'chromium',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        // Without these, Chromium tries Google's services at start, which a closed network refuses.
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
        '--no-first-run',
        // Exposes the WebGPU adapter (SwiftShader here) on http://localhost pages.
        '--enable-unsafe-webgpu',
      ],
    },
  },
});
