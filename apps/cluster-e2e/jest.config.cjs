module.exports = {
  displayName: 'cluster-e2e',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  coverageDirectory: '../../coverage/apps/cluster-e2e',
  // Real processes: suites run one at a time (the machine has 2 cores), each test with a generous deadline.
  maxWorkers: 1,
  testTimeout: 120000,
};
