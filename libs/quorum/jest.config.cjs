module.exports = {
  displayName: 'quorum',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  coverageDirectory: '../../coverage/libs/quorum',
};
