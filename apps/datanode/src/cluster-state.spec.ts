import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ClusterMap } from '@kv/protocol';
import { EMPTY_ACCEPTOR_STATE, type AcceptorState } from '@kv/quorum';
import { CLUSTER_STATE_DIR, MAP_RECORD, STREAM_RECORD, loadClusterState } from './cluster-state';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'kv-cluster-state-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const map: ClusterMap = {
  epoch: 2,
  members: ['node1', 'node2', 'node3'].map((id, i) => ({ id, url: `http://127.0.0.1:${8001 + i}`, state: 'active' as const })),
  vnodes: 8,
  replicas: 3,
  writeQuorum: 2,
  readQuorum: 2,
  transition: null,
};

function writeRecord(name: string, text: string): string {
  mkdirSync(path.join(dir, CLUSTER_STATE_DIR), { recursive: true });
  const file = path.join(dir, CLUSTER_STATE_DIR, name);
  writeFileSync(file, text);
  return file;
}

describe('loadClusterState', () => {
  test('a new data directory has no map and no streaming progress; what is persisted is loaded again', async () => {
    const fresh = await loadClusterState(dir);
    expect(fresh.mapState).toEqual(EMPTY_ACCEPTOR_STATE);
    expect(fresh.streamProgress).toBeNull();
    const state: AcceptorState = { committed: map, promised: { epoch: 3, ballot: { round: 2, proposer: 'p1' } }, accepted: null };
    await fresh.persistMap(state);
    await fresh.persistStream({ change: 'c3-0a1b2c3d', ranges: [0, 4], keys: 12, bytes: 340 });
    const again = await loadClusterState(dir);
    expect(again.mapState).toEqual(state);
    expect(again.streamProgress).toEqual({ change: 'c3-0a1b2c3d', ranges: [0, 4], keys: 12, bytes: 340 });
    expect(readFileSync(path.join(dir, CLUSTER_STATE_DIR, STREAM_RECORD), 'utf8')).toBe('{"change":"c3-0a1b2c3d","ranges":[0,4],"keys":12,"bytes":340}\n');
  });

  test('a stream record without counts (written before they existed) counts nothing', async () => {
    writeRecord(STREAM_RECORD, '{"change":"c3-0a1b2c3d","ranges":[1,2]}\n');
    expect((await loadClusterState(dir)).streamProgress).toEqual({ change: 'c3-0a1b2c3d', ranges: [1, 2], keys: 0, bytes: 0 });
  });

  test.each([
    ['not JSON', '{"change": "c3', /is malformed \(.*JSON.*\); remove it: the ranges of the change in progress are then streamed to this node again$/],
    ['not an object', 'null', /is malformed: expected \{"change": string, "ranges": \[integer\]\}; remove it/],
    ['a negative range', '{"change":"c3","ranges":[-1]}', /is malformed: expected/],
  ])('a malformed stream record (%s) stops the start with a message naming the file and the remedy', async (_case, text, message) => {
    const file = writeRecord(STREAM_RECORD, text);
    const error = await loadClusterState(dir).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message.startsWith(`${file} is malformed`)).toBe(true);
    expect((error as Error).message).toMatch(message);
  });

  test('a malformed map record stops the start with a message naming the file', async () => {
    const file = writeRecord(MAP_RECORD, JSON.stringify({ committed: { ...map, replicas: 7 }, promised: null, accepted: null }));
    await expect(loadClusterState(dir)).rejects.toThrow(`${file} is malformed (cluster map: fewer members than N=7); restore it from a backup of this node`);
  });
});
