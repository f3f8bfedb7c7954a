import nx from '@nx/eslint-plugin';

/**
 * Module boundaries (DESIGN.md, Layout):
 * - apps may import libs; libs never import apps;
 * - no lib imports express or yargs (libs stay usable outside our servers and CLI);
 * - `ring`, `protocol` and `wal` are leaves: they import no other @kv lib;
 * - `quorum` imports only `ring`, `protocol` and `wal`;
 * - `resp` (the Redis protocol, `layer:core`) imports only leaf libs (`protocol`: key rules, limits, error codes);
 * - `service` (what the server apps share: config, logs, metrics, HTTP plumbing) imports only leaf libs.
 */
const frameworkImports = ['express', 'yargs', 'yargs/*'];

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
        { selector: 'ExportDefaultDeclaration', message: 'No default exports (STYLE.md rule 8).' },
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
