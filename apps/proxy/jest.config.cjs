module.exports = {
  displayName: 'proxy',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  coverageDirectory: '../../coverage/apps/proxy',
};
