import { NodeFileSystem } from './node-file-system';
import { PowerLossFileSystem } from './power-loss-file-system';
import { describeFileSystemCompliance } from './testing/file-system-compliance';
import { tempDirs } from './testing/temp-dirs';

const temp = tempDirs();

describeFileSystemCompliance(
  'NodeFileSystem',
  async () => ({ fs: new NodeFileSystem(), dir: await temp.make() }),
  () => temp.removeAll(),
);

describeFileSystemCompliance('PowerLossFileSystem', async () => {
  const fs = new PowerLossFileSystem();
  await fs.mkdir('/mem');
  return { fs, dir: '/mem' };
});
