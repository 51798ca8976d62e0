// The widget's browser test: Debian's Chromium (never a downloaded browser) driven by
// Playwright against a running web demo (`micropay demo --web`, or the Rust test
// `tests/tests/typescript.rs`, which starts one and runs this). MICROPAY_DEMO_URL names it.
// Headed: `MICROPAY_DEMO_URL=http://127.0.0.1:7900 npx playwright test --headed`.

import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: 'browser',
  outputDir: 'test-results',
  timeout: 180_000,
  retries: 0,
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL: process.env.MICROPAY_DEMO_URL ?? 'http://127.0.0.1:7900',
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      // Root in CI needs --no-sandbox; the rest keeps Chromium off the closed network.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
