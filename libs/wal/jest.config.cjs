module.exports = {
  displayName: 'wal',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  coverageDirectory: '../../coverage/libs/wal',
};
