import { PassThrough } from 'node:stream';
import { KvError } from '@kv/protocol';
import { createLogger, flushLogger } from './logger';

test('writes one JSON object per line with time, level, service, fields and errors by message and code', async () => {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  const logger = createLogger({ service: 'proxy', level: 'info', fields: { proxyId: 'p1' }, stream });
  logger.debug('not written');
  logger.warn('node down', { node: 'node2', err: new KvError('KV_UNAVAILABLE', 'connect ECONNREFUSED') });
  await flushLogger(logger);
  expect(lines).toHaveLength(1);
  const line = JSON.parse(lines[0]);
  expect(line).toMatchObject({
    level: 'warn',
    message: 'node down',
    service: 'proxy',
    proxyId: 'p1',
    node: 'node2',
    err: { message: 'connect ECONNREFUSED', name: 'KvError', code: 'KV_UNAVAILABLE' },
  });
  expect(new Date(line.time).getTime()).not.toBeNaN();
});
