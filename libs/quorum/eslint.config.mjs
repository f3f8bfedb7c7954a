import baseConfig from '../../eslint.config.mjs';

export default [
  ...baseConfig,
  {
    // The smoke scripts import the published package by name: scripts/pack-check.sh runs them outside the workspace,
    // against the installed tarball, so the workspace's relative-import rule does not apply to them.
    files: ['pack-check/**'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
];
