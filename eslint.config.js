// ESLint (flat config): `npm run lint`. Type-checked rules of typescript-eslint, React's hook rules
// for client/, and the import boundaries between folders (docs/testing.md).
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** `no-restricted-imports` by regular expression over the import's specifier. */
const onlyImports = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

export default defineConfig([
  globalIgnores(['dist/', 'reports/', '.stryker-tmp/', 'test-results/', 'playwright-report/', 'data/']),
  {
    files: ['**/*.{ts,tsx,js,mjs}'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      // Each file is checked with the tsconfig project that holds it (tsconfig.json's references).
      parserOptions: { projectService: { allowDefaultProject: ['*.js', '*.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    rules: {
      // Express tells error handlers by their four parameters; `_` marks the ones kept for that (as tsconfig's noUnusedParameters).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // React event handlers may be async: what they return is ignored, and their errors go through TanStack Query.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
    },
  },
  {
    // Tests read JSON answers (typed any by the harness), hand methods to expect(), and fake async interfaces
    // (*.test-support.ts: the fakes that unit tests share, e.g. client/api/multipart's in-memory storage API).
    files: ['**/*.test.ts', '**/*.test-support.ts', 'e2e/**', 'server/integration/**', 'server/conformance/**'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
  { files: ['**/*.{js,mjs}'], extends: [tseslint.configs.disableTypeChecked], languageOptions: { globals: globals.node } },
  {
    files: ['client/**/*.{ts,tsx}'],
    extends: [reactHooks.configs.flat['recommended-latest']],
    languageOptions: { globals: globals.browser },
  },
  { files: ['server/**', 'scripts/**', 'e2e/**', '*.config.ts'], languageOptions: { globals: globals.node } },

  // Import boundaries.
  {
    files: ['client/**'],
    rules: onlyImports(
      {
        regex: '(^|/)server(/|$)',
        message: 'client/ is the browser bundle: it imports nothing from server/ (share types through contract/).',
      },
      { regex: '^node:', message: 'client/ runs in the browser: no Node modules.' },
    ),
  },
  {
    files: ['contract/**'],
    rules: onlyImports({ regex: '^(?!zod$)', message: 'contract/ is imported by both the browser and the server: it imports only zod.' }),
  },
  {
    files: ['server/{signing,storage,shares,secrets,sessions,config,errors}/**'],
    rules: onlyImports({
      regex: '(^|/)http(/|$)',
      message: 'Domain folders never import from server/http/: pass what they need in (the HTTP layer depends on them, not the other way).',
    }),
  },
]);
