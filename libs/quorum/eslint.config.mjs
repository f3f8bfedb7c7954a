import baseConfig, { pureCore } from '../../eslint.config.mjs';

export default [
  ...baseConfig,
  // Exempt: the system clock itself, the virtual clock of the tests (it settles promises between timers), and the
  // compliance suites (jest code that times real transports).
  pureCore(['src/system-clock.ts', 'src/in-memory/virtual-clock.ts', 'src/testing/**']),
  {
    // The smoke scripts import the published package by name: scripts/pack-check.sh runs them outside the workspace,
    // against the installed tarball, so the workspace's relative-import rule does not apply to them.
    files: ['pack-check/**'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
];
