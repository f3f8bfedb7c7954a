import { MemoryHintStore } from '@kv/quorum';
import { Registry } from 'prom-client';
import { ProxyMetrics } from './proxy-metrics';

describe('ProxyMetrics', () => {
  test('hints dropped are reported by reason (full, disk), with the bytes pending and whether the hint log fails', async () => {
    const registry = new Registry();
    const store = new MemoryHintStore({ hintsMax: 1 });
    await store.add({ nodeId: 'n1', key: 'a', value: 'v', version: '001' });
    await store.add({ nodeId: 'n1', key: 'b', value: 'v', version: '002' });
    // A durable store whose log failed: three hints not recorded.
    const hints = {
      count: store.count,
      bytes: store.bytes,
      dropped: store.dropped,
      diskDropped: 3,
      failing: true,
      add: (hint: Parameters<MemoryHintStore['add']>[0]) => store.add(hint),
      pending: (nodeId: string, limit: number) => store.pending(nodeId, limit),
      remove: (hint: Parameters<MemoryHintStore['remove']>[0]) => store.remove(hint),
      nodes: () => store.nodes(),
      close: () => store.close(),
    };
    new ProxyMetrics(registry, hints);
    const text = await registry.metrics();
    expect(text).toContain('kv_hints_dropped{reason="full"} 1');
    expect(text).toContain('kv_hints_dropped{reason="disk"} 3');
    expect(text).toContain('kv_hints_bytes 7');
    expect(text).toContain('kv_hints_log_failing 1');
  });
});
