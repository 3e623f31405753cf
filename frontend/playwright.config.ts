import { defineConfig } from "@playwright/test";

// Run through scripts/test-e2e, which starts the real stack and sets E2E_UI_URL & co.
// Debian's Chromium, never a downloaded browser; one worker, because one test takes the
// database away for everyone.
export default defineConfig({
  testDir: "e2e",
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  outputDir: "test-results",
  use: {
    baseURL: process.env.E2E_UI_URL,
    browserName: "chromium",
    headless: true,
    viewport: { width: 1100, height: 760 },
    colorScheme: "light",
    locale: "en-GB",
    timezoneId: "UTC",
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
});
