import nx from '@nx/eslint-plugin';

/**
 * Module boundaries (docs/design.md#layout-and-module-boundaries):
 * - apps may import libs; libs never import apps;
 * - no lib imports express or yargs (libs stay usable outside our servers and CLI);
 * - `ring`, `protocol` and `wal` are leaves: they import no other @kv lib;
 * - `quorum` imports only `ring`, `protocol` and `wal`;
 * - `resp` (the Redis protocol, `layer:core`) imports only leaf libs (`protocol`: key rules, limits, error codes);
 * - `service` (what the server apps share: config, logs, metrics, HTTP plumbing) imports only leaf libs.
 */
const frameworkImports = ['express', 'yargs', 'yargs/*'];

/**
 * The pure cores (the ring, the coordinator core) do no I/O and read no clock of their own; the caller injects the
 * transport, the storage and time (docs/ARCHITECTURE.md). Their libraries add this block to their own lint config, with
 * the few files exempt from it (the system clock itself; the virtual clock of the tests, which settles promises between
 * timers). Globs are relative to the library's folder.
 */
const ioModules = ['fs', 'node:fs', 'fs/promises', 'node:fs/promises', 'net', 'node:net', 'http', 'node:http', 'https', 'node:https', 'axios', 'undici'];
const timeGlobals = ['Date', 'setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate', 'performance'];
export function pureCore(exempt = []) {
  return {
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.spec.ts', ...exempt],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ioModules.map((name) => ({
            name,
            message: 'The pure core does no I/O: take a transport or a store as a parameter (docs/ARCHITECTURE.md).',
          })),
        },
      ],
      'no-restricted-globals': [
        'error',
        ...timeGlobals.map((name) => ({
          name,
          message: 'The pure core reads no clock and arms no timer: take a Clock and Timers as parameters (docs/ARCHITECTURE.md).',
        })),
      ],
    },
  };
}

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  {
    ignores: ['**/dist', '**/node_modules', '**/.nx', '**/tmp', '**/coverage', 'data/**'],
  },
  {
    files: ['**/*.ts', '**/*.js', '**/*.cjs'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib', 'type:testkit'] },
            {
              sourceTag: 'type:lib',
              onlyDependOnLibsWithTags: ['type:lib'],
              bannedExternalImports: frameworkImports,
            },
            { sourceTag: 'layer:leaf', onlyDependOnLibsWithTags: ['layer:none'] },
            { sourceTag: 'layer:core', onlyDependOnLibsWithTags: ['layer:leaf'] },
            { sourceTag: 'layer:service', onlyDependOnLibsWithTags: ['layer:leaf'] },
            {
              sourceTag: 'type:testkit',
              onlyDependOnLibsWithTags: ['type:lib'],
              bannedExternalImports: frameworkImports,
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'No default exports (docs/design.md#typescript).' },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/bench/**/*.ts', '**/*.cjs', '**/*.js'],
    rules: {
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
];
