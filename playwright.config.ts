import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defineConfig } from '@playwright/test';
import { chromiumLaunch } from './e2e/chromium.ts';

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
/** Request links (e2e/requests.spec.ts): a locked app whose notifications go to a webhook and an SMTP server the spec runs. */
export const REQUESTS_PORT = appPort + 6;
export const REQUESTS_HOOK_PORT = appPort + 7;
export const REQUESTS_SMTP_PORT = appPort + 8;
export const REQUESTS_PASSWORD = 'e2e requester 2026';
export const REQUESTS_WEBHOOK_SECRET = 'e2e-webhook-secret-0123456789';
export const E2E_REQUESTS_MAX_UPLOAD_BYTES = 1024 * 1024;
/** The app with a quota per person (e2e/accounts.spec.ts). */
export const QUOTA_PORT = appPort + 12;
export const E2E_QUOTA_BYTES = 100 * 1024;
const rgwEndpoint = process.env.POSTBOX_RGW_ENDPOINT;
/** The app in the OIDC mode (e2e/accounts.spec.ts), and the test OpenID provider it signs in with. */
export const OIDC_PORT = appPort + 20;
export const OIDC_PROVIDER_PORT = appPort + 21;
const OIDC_CLIENT_SECRET = 'e2e-oidc-client-secret';

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
    launchOptions: chromiumLaunch,
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
    {
      command: 'node_modules/.bin/tsx scripts/oidc-provider.ts',
      url: `http://127.0.0.1:${OIDC_PROVIDER_PORT}/.well-known/openid-configuration`,
      env: { PORT: String(OIDC_PROVIDER_PORT), POSTBOX_URL: `http://127.0.0.1:${OIDC_PORT}`, OIDC_CLIENT_SECRET },
      reuseExistingServer: false,
      timeout: 60_000,
    },
    postbox(OIDC_PORT, {
      POSTBOX_DATA_DIR: freshDataDir(),
      PUBLIC_URL: `http://127.0.0.1:${OIDC_PORT}`,
      OIDC_ISSUER_URL: `http://127.0.0.1:${OIDC_PROVIDER_PORT}`,
      OIDC_CLIENT_ID: 'postbox',
      OIDC_CLIENT_SECRET,
    }),
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
    postbox(REQUESTS_PORT, {
      POSTBOX_DATA_DIR: freshDataDir(),
      POSTBOX_PASSWORD: REQUESTS_PASSWORD,
      MAX_UPLOAD_BYTES: String(E2E_REQUESTS_MAX_UPLOAD_BYTES),
      REQUEST_WEBHOOK_URL: `http://127.0.0.1:${REQUESTS_HOOK_PORT}/hook`,
      REQUEST_WEBHOOK_SECRET: REQUESTS_WEBHOOK_SECRET,
      SMTP_URL: `smtp://127.0.0.1:${REQUESTS_SMTP_PORT}`,
      REQUEST_MAIL_TO: 'requester@example.test',
    }),
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
