import { HeapGuard, readHeap, type HeapState } from './heap-guard';

describe('HeapGuard', () => {
  test('ok below the warning margin, warning within 10 points of MAX_HEAP_PERCENT, refusing at it; each change reported once', () => {
    let used = 10;
    const changes: string[] = [];
    const guard = new HeapGuard({
      percentMax: 90,
      read: () => ({ used, limit: 100 }),
      changed: (state: HeapState, percent, before) => changes.push(`${before}->${state} at ${percent}`),
    });
    expect(guard.sample()).toBe('ok');
    used = 80;
    expect(guard.sample()).toBe('warning');
    expect(guard.refusing).toBe(false);
    used = 85;
    guard.sample();
    used = 90;
    expect(guard.sample()).toBe('refusing');
    expect(guard.refusing).toBe(true);
    expect(guard.message()).toBe(
      "this data node's heap is 90% full (MAX_HEAP_PERCENT=90): it refuses writes of values until keys are deleted or it runs with more memory (--max-old-space-size); deletes are accepted",
    );
    used = 50;
    expect(guard.sample()).toBe('ok');
    expect(changes).toEqual(['ok->warning at 80', 'warning->refusing at 90', 'refusing->ok at 50']);
  });

  test('reads the real heap: used below the limit', () => {
    const { used, limit } = readHeap();
    expect(used).toBeGreaterThan(0);
    expect(limit).toBeGreaterThan(used);
  });

  test('refuses a bound outside 1..99', () => {
    expect(() => new HeapGuard({ percentMax: 100 })).toThrow(TypeError);
    expect(() => new HeapGuard({ percentMax: 0 })).toThrow(TypeError);
  });
});
