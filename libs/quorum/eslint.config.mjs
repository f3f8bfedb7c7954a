import baseConfig, { pureCore } from '../../eslint.config.mjs';

export default [
  ...baseConfig,
  // Exempt: the system clock itself, the virtual clock of the tests (it settles promises between timers), and the
  // compliance suites (jest code that times real transports).
  pureCore(['src/system-clock.ts', 'src/in-memory/virtual-clock.ts', 'src/testing/**']),
];
