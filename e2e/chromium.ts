/**
 * Debian's Chromium, as every browser run here starts it (Playwright cannot download a browser on
 * this machine): the tests, bench:upload and bench:zip.
 */
export const chromiumLaunch = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
};
