module.exports = {
  displayName: 'ring',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  coverageDirectory: '../../coverage/libs/ring',
};
