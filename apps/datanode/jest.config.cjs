module.exports = {
  displayName: 'datanode',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  coverageDirectory: '../../coverage/apps/datanode',
};
