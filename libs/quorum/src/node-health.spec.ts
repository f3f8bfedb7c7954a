import { NodeHealth, type NodeStatus } from './node-health';

describe('NodeHealth', () => {
  test('nodes start up; a failed probe marks a node down and a good one brings it back', () => {
    let now = 0;
    const health = new NodeHealth(['a', 'b', 'c'], { now: () => now });
    const changes: NodeStatus[] = [];
    health.onChange((status) => changes.push(status));
    expect(health.order(['a', 'b', 'c'])).toEqual(['a', 'b', 'c']);
    now = 10;
    health.report('a', false);
    expect(health.isUp('a')).toBe(false);
    expect(health.order(['a', 'b', 'c'])).toEqual(['b', 'c', 'a']);
    now = 20;
    health.report('a', true);
    expect(health.isUp('a')).toBe(true);
    expect(changes).toEqual([
      { id: 'a', up: false, sinceMs: 10, failures: 1 },
      { id: 'a', up: true, sinceMs: 20, failures: 0 },
    ]);
  });

  test('down nodes go last, keeping the given order within each group', () => {
    const health = new NodeHealth(['a', 'b', 'c', 'd']);
    health.report('b', false);
    health.report('a', false);
    expect(health.order(['a', 'b', 'c', 'd'])).toEqual(['c', 'd', 'a', 'b']);
    expect(health.order(['d', 'b', 'c'])).toEqual(['d', 'c', 'b']);
  });

  test('with failuresToDown, only consecutive failures mark a node down', () => {
    const health = new NodeHealth(['a'], { failuresToDown: 3 });
    health.report('a', false);
    health.report('a', false);
    health.report('a', true);
    health.report('a', false);
    health.report('a', false);
    expect(health.isUp('a')).toBe(true);
    health.report('a', false);
    expect(health.isUp('a')).toBe(false);
  });

  test('unknown nodes are treated as up and their reports ignored', () => {
    const health = new NodeHealth(['a']);
    health.report('zzz', false);
    expect(health.isUp('zzz')).toBe(true);
    expect(health.statusAll().map((s) => s.id)).toEqual(['a']);
  });

  test('rejects bad input', () => {
    expect(() => new NodeHealth(['a', 'a'])).toThrow(TypeError);
    expect(() => new NodeHealth([''])).toThrow(TypeError);
    expect(() => new NodeHealth(['a'], { failuresToDown: 0 })).toThrow(TypeError);
  });

  test('add and remove track membership', () => {
    const health = new NodeHealth(['a']);
    health.add('b');
    health.report('b', false);
    expect(health.order(['a', 'b'])).toEqual(['a', 'b']);
    health.remove('b');
    expect(health.isUp('b')).toBe(true);
  });
});
