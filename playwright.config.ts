import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defineConfig } from '@playwright/test';

// Real servers: the app on its embedded S3 (fresh data each run); the same app pointed at an S3
// endpoint where nothing listens, to show what people see when storage is down; and, when
// scripts/test.sh started a Ceph RGW, the app on that real S3.
const appPort = Number(process.env.E2E_PORT ?? 18080);
const outagePort = appPort + 1;
export const REAL_S3_PORT = appPort + 2;
export const LOCKED_PORT = appPort + 3;
export const LOCKED_PASSWORD = 'e2e password 2026';
export const REAL_S3_BUCKET = 'postbox-e2e';
/** The app with big-file settings: files above 16 MiB go through multipart upload (e2e/multipart.spec.ts). */
export const MULTIPART_PORT = appPort + 4;
export const E2E_MULTIPART_THRESHOLD_BYTES = 16 * 1024 * 1024;
/** 8 MiB parts (the default is 32 MiB): the specs count parts of files of a few dozen MiB. */
const E2E_MULTIPART_PART_BYTES = 8 * 1024 * 1024;
export const E2E_MAX_UPLOAD_BYTES = 5 * 1024 * 1024;
/**
 * The app listening on 127.0.0.2 only, a second loopback address standing in for another machine
 * on the LAN (e2e/other-machine.spec.ts): its page must never need 127.0.0.1.
 */
export const OTHER_MACHINE_HOST = '127.0.0.2';
export const OTHER_MACHINE_PORT = appPort + 5;
export const OTHER_MACHINE_MULTIPART_BYTES = 5 * 1024 * 1024;
/** The app with a quota per person (e2e/accounts.spec.ts). */
export const QUOTA_PORT = appPort + 12;
export const E2E_QUOTA_BYTES = 100 * 1024;
const rgwEndpoint = process.env.POSTBOX_RGW_ENDPOINT;

const freshDataDir = () => mkdtempSync(path.join(tmpdir(), 'postbox-e2e-'));

/** The real server (`server/main.ts`) on `host:port`; /api/settings answers even when storage is down. */
function postbox(port: number, env: Record<string, string>, host = '127.0.0.1') {
  return {
    command: 'node_modules/.bin/tsx server/main.ts',
    url: `http://${host}:${port}/api/settings`,
    env: { HOST: host, PORT: String(port), LOG_LEVEL: 'warn', ...env },
    reuseExistingServer: false,
    timeout: 60_000,
  };
}

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results/e2e',
  timeout: 60_000,
  retries: 0,
  // A test.only left in a spec would silently skip the rest in CI.
  forbidOnly: !!process.env.CI,
  workers: 1,
  reporter: [['list'], ['html', { outputFolder: 'playwright-report', open: 'never' }]],
  use: {
    baseURL: `http://127.0.0.1:${appPort}`,
    screenshot: 'on',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
  },
  projects: [
    {
      name: 'chromium',
      use: { viewport: { width: 1100, height: 800 }, permissions: ['clipboard-read', 'clipboard-write'] },
    },
  ],
  webServer: [
    postbox(appPort, {
      POSTBOX_DATA_DIR: freshDataDir(),
      MAX_UPLOAD_BYTES: String(E2E_MAX_UPLOAD_BYTES),
    }),
    postbox(outagePort, {
      S3_BUCKET: 'unreachable',
      // Port 9 (discard) on loopback: nothing listens, connections are refused at once.
      S3_ENDPOINT: 'http://127.0.0.1:9',
      S3_FORCE_PATH_STYLE: 'true',
      S3_MAX_ATTEMPTS: '1',
      AWS_ACCESS_KEY_ID: 'outage',
      AWS_SECRET_ACCESS_KEY: 'outage',
      LOG_LEVEL: 'fatal',
    }),
    postbox(LOCKED_PORT, { POSTBOX_DATA_DIR: freshDataDir(), POSTBOX_PASSWORD: LOCKED_PASSWORD }),
    postbox(MULTIPART_PORT, {
      POSTBOX_DATA_DIR: freshDataDir(),
      MULTIPART_THRESHOLD_BYTES: String(E2E_MULTIPART_THRESHOLD_BYTES),
      MULTIPART_PART_BYTES: String(E2E_MULTIPART_PART_BYTES),
    }),
    postbox(
      OTHER_MACHINE_PORT,
      {
        POSTBOX_DATA_DIR: freshDataDir(),
        MULTIPART_THRESHOLD_BYTES: String(OTHER_MACHINE_MULTIPART_BYTES),
        MULTIPART_PART_BYTES: String(OTHER_MACHINE_MULTIPART_BYTES),
      },
      OTHER_MACHINE_HOST,
    ),
    postbox(QUOTA_PORT, { POSTBOX_DATA_DIR: freshDataDir(), USER_QUOTA_BYTES: String(E2E_QUOTA_BYTES) }),
    ...(rgwEndpoint
      ? [
          postbox(REAL_S3_PORT, {
            S3_BUCKET: REAL_S3_BUCKET,
            S3_ENDPOINT: rgwEndpoint,
            S3_FORCE_PATH_STYLE: 'true',
            MULTIPART_THRESHOLD_BYTES: String(E2E_MULTIPART_THRESHOLD_BYTES),
            MULTIPART_PART_BYTES: String(E2E_MULTIPART_PART_BYTES),
            AWS_ACCESS_KEY_ID: process.env.POSTBOX_RGW_ACCESS_KEY_ID!,
            AWS_SECRET_ACCESS_KEY: process.env.POSTBOX_RGW_SECRET_ACCESS_KEY!,
          }),
        ]
      : []),
  ],
});
