// @ts-check
/**
 * Mutation testing of the security-critical modules: `npm run test:mutation` (docs/testing.md).
 * Sized for a 2-core machine: two workers, each mutant runs only the tests that covered it
 * (vitest runner: per-test coverage), and incremental mode re-tests only mutants whose code or
 * tests changed since the last run (reports/stryker-incremental.json; delete it for a full run).
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: true },
  mutate: [
    'server/signing/{object-keys,filenames,upload-policy,upload-token,upload-rules}.ts',
    'server/http/{security,access,upload-key}.ts',
    'server/shares/{passwords,password-throttle}.ts',
    'server/sessions/*.ts',
    'server/storage/embedded-{auth,paths,xml}.ts',
    '!server/**/*.test.ts',
  ],
  concurrency: 2,
  // Module-level mutants (constants, regexes) would need every test re-run per mutant: reported as ignored.
  ignoreStatic: true,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  timeoutMS: 20_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 75, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
