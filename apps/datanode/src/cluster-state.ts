import * as path from 'node:path';
import { validateBallot, validateClusterMap, type StreamProgress } from '@kv/protocol';
import { EMPTY_ACCEPTOR_STATE, FileStableStore, type AcceptorState } from '@kv/quorum';

/** Sub-directory of `DATA_DIR` holding the cluster map, the Paxos state and the streaming progress. */
export const CLUSTER_STATE_DIR = 'cluster';
/** Record of the map and the Paxos state (docs/formats/cluster-state.md). */
export const MAP_RECORD = 'map.json';
/** Record of the ranges of the latest membership change received in full. */
export const STREAM_RECORD = 'stream.json';

/** A data node's durable part in the cluster map: what it stored, and how to store it again. */
export interface ClusterState {
  mapState: AcceptorState;
  streamProgress: StreamProgress | null;
  persistMap(state: AcceptorState): Promise<void>;
  persistStream(progress: StreamProgress): Promise<void>;
}

/**
 * Loads the map, Paxos and streaming state of a data node from `<dataDir>/cluster`; each write replaces a record
 * atomically and durably before the node answers.
 * @throws Error naming the file when a record is malformed (the node must not start on a state it cannot read: a
 *   forgotten promise could let two maps win one epoch).
 */
export async function loadClusterState(dataDir: string): Promise<ClusterState> {
  const stable = new FileStableStore(path.join(dataDir, CLUSTER_STATE_DIR));
  const mapText = await stable.read(MAP_RECORD);
  const streamText = await stable.read(STREAM_RECORD);
  return {
    mapState: mapText === undefined ? EMPTY_ACCEPTOR_STATE : parseAcceptorState(mapText, path.join(dataDir, CLUSTER_STATE_DIR, MAP_RECORD)),
    streamProgress: streamText === undefined ? null : parseStreamProgress(streamText, path.join(dataDir, CLUSTER_STATE_DIR, STREAM_RECORD)),
    persistMap: (state) => stable.write(MAP_RECORD, `${JSON.stringify(state)}\n`),
    persistStream: (progress) => stable.write(STREAM_RECORD, `${JSON.stringify(progress)}\n`),
  };
}

function parseAcceptorState(text: string, file: string): AcceptorState {
  try {
    const raw = JSON.parse(text) as Partial<AcceptorState>;
    const promised = raw.promised ?? null;
    const accepted = raw.accepted ?? null;
    return {
      committed: raw.committed === null || raw.committed === undefined ? null : validateClusterMap(raw.committed),
      promised:
        promised === null
          ? null
          : { epoch: positiveInteger(promised.epoch, 'promised.epoch'), ballot: validateBallot(promised.ballot) },
      accepted: accepted === null ? null : { ballot: validateBallot(accepted.ballot), map: validateClusterMap(accepted.map) },
    };
  } catch (error) {
    throw new Error(`${file} is malformed (${(error as Error).message}); restore it from a backup of this node`, { cause: error });
  }
}

function parseStreamProgress(text: string, file: string): StreamProgress {
  const advice = 'remove it: the ranges of the change in progress are then streamed to this node again';
  let raw: Partial<StreamProgress>;
  try {
    raw = JSON.parse(text) as Partial<StreamProgress>;
  } catch (error) {
    throw new Error(`${file} is malformed (${(error as Error).message}); ${advice}`, { cause: error });
  }
  if (typeof raw !== 'object' || raw === null || typeof raw.change !== 'string' || !Array.isArray(raw.ranges) || !raw.ranges.every((range) => Number.isInteger(range) && range >= 0)) {
    throw new Error(`${file} is malformed: expected {"change": string, "ranges": [integer]}; ${advice}`);
  }
  // Counts came later than ranges: a record without them counts nothing.
  const count = (value: unknown): number => (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0);
  return { change: raw.change, ranges: raw.ranges, keys: count(raw.keys), bytes: count(raw.bytes) };
}

function positiveInteger(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new TypeError(`${name} must be a positive integer`);
  return value;
}
