import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'crds/', 'charts/', 'scratch/', 'test/controlplane/', '**/*.py'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Node's globals; TypeScript already checks undefined names in .ts files.
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // The engine is pure: no I/O, only the API types.
    files: ['src/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['node:*', '../runtime/*', '../connectors/*', '../controllers/*', '../cli/*', 'pg', 'ldapts', '@kubernetes/*'] }],
    },
  },
  {
    files: ['src/connectors/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['../controllers/*', '../../controllers/*', '../cli/*', '../../cli/*', '../engine/*', '../../engine/*'] }] },
  },
);
