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
    // One clock (src/clock/clock.ts): the date is read and waited for only through a Clock, so an
    // injected clock is obeyed everywhere. Durations use the monotonic performance.now().
    files: ['src/**/*.ts', 'bin/**/*.js'],
    ignores: ['src/clock/clock.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[object.name='Date'][property.name='now']", message: 'Read the date through the Clock (src/clock/clock.ts); for a duration use performance.now().' },
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Read the date through the Clock (src/clock/clock.ts).' },
      ],
    },
  },
  {
    // The engine is pure: no I/O, only the API types (and re2js, a pure function: linear-time regular expressions).
    files: ['src/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^(?!\\./|\\.\\./api/|re2js$)', message: 'The engine is pure: it imports only src/api.' }] }],
    },
  },
  {
    // The platform layers (store, manifests, queue, process, clock) serve the controllers; they never reach up.
    files: ['src/{store,manifests,queue,process,clock}/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['../controllers/*', '../connections/*', '../feeds/*', '../scim-inbound/*', '../cli/*', '../connectors/*', '../engine/*'], message: 'Imports point one way: cli → controllers → connections → engine, connectors, platform → api.' }] }] },
  },
  {
    files: ['src/connectors/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['../controllers/*', '../../controllers/*', '../connections/*', '../../connections/*', '../feeds/*', '../../feeds/*', '../scim-inbound/*', '../../scim-inbound/*', '../cli/*', '../../cli/*', '../engine/*', '../../engine/*'] }] },
  },
  {
    // The connection layer, the feed readers and the inbound SCIM server serve the controllers and the cli; they never reach up.
    files: ['src/{connections,feeds,scim-inbound}/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['../controllers/*', '../cli/*'], message: 'These sit below the controllers: cli → controllers → scim-inbound, feeds, connections.' }] }] },
  },
);
