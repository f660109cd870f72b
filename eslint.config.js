// Lint runs in CI beside the strict typecheck; type-aware rules catch the async mistakes
// (floating promises, misused promises) that matter most in daemons.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // packages/ holds local stand-ins for npm packages (plain JavaScript, see docs/architecture.md).
  { ignores: ['node_modules/', '.torrentedge/', 'coverage/', '.cache/', 'packages/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
      // Interfaces promise results; an implementation that has nothing to await is still async.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // node:test's describe/it return promises that the runner itself awaits.
    files: ['test/**'],
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] },
      ],
    },
  },
  {
    files: ['src/cli/**', 'bench/**', 'scripts/**'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // The dashboard's browser modules: plain JavaScript served as is, without a build step.
    files: ['src/dashboard/static/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'module',
      globals: Object.fromEntries(['window', 'document', 'location', 'history', 'sessionStorage', 'URLSearchParams', 'Node', 'setTimeout'].map((name) => [name, 'readonly'])),
    },
  },
);
