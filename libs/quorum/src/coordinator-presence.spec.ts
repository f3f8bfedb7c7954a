import { ErrorCode, KvError, type LiveCoordinator } from '@kv/protocol';
import { CoordinatorPresence, DuplicateCoordinatorError, JOIN_RETRY_MS } from './coordinator-presence';
import { VirtualClock } from './in-memory/virtual-clock';

const LEASE_MS = 2000;
const NODES = ['n1', 'n2', 'n3'];

interface Fixture {
  clock: VirtualClock;
  presence: CoordinatorPresence;
  /** What each node answers to a registration: a list of live coordinators, or an error. */
  answers: Map<string, readonly LiveCoordinator[] | Error>;
  registrations: string[];
}

function fixture(taken: DuplicateCoordinatorError[] = []): Fixture {
  const clock = new VirtualClock(0);
  const answers = new Map<string, readonly LiveCoordinator[] | Error>(NODES.map((id) => [id, []]));
  const registrations: string[] = [];
  const presence = new CoordinatorPresence({
    claim: { clockId: 'pa', incarnation: '0123456789abcdef', leaseMs: LEASE_MS },
    nodeIds: NODES,
    monotonic: clock,
    timers: clock,
    register: async (nodeId) => {
      registrations.push(nodeId);
      const answer = answers.get(nodeId);
      if (answer instanceof Error) throw answer;
      return answer ?? [];
    },
    events: { clockIdTaken: (error) => taken.push(error) },
  });
  return { clock, presence, answers, registrations };
}

const other = (id: string, seenMsAgo = 0): LiveCoordinator => ({ id, leaseMs: LEASE_MS, seenMsAgo });

describe('CoordinatorPresence', () => {
  test('joins at once when a majority answers and nobody else is live; alone while renewals keep coming', async () => {
    const f = fixture();
    f.answers.set('n3', new Error('down'));
    await f.clock.run(f.presence.join());
    expect(f.presence.joined).toBe(true);
    expect(f.presence.alone()).toBe(true);
    expect(f.clock.now()).toBe(0);
    // Without renewals the view goes stale after half a lease: no acknowledgement without a fresh majority.
    await f.clock.advance(LEASE_MS / 2);
    expect(f.presence.fresh()).toBe(false);
    expect(f.presence.alone()).toBe(false);
    f.presence.observe('n1', f.clock.now(), []);
    expect(f.presence.fresh()).toBe(false);
    f.presence.observe('n2', f.clock.now(), []);
    expect(f.presence.fresh()).toBe(true);
  });

  test('a node that answers late or never does not hold back the renewals of the others', async () => {
    const f = fixture();
    await f.clock.run(f.presence.join());
    for (let t = 0; t < 10; t++) {
      await f.clock.advance(400);
      // n3 never answers; n1 and n2 answer each probe.
      f.presence.observe('n1', f.clock.now(), []);
      f.presence.observe('n2', f.clock.now() - 100, []);
      expect(f.presence.fresh()).toBe(true);
    }
  });

  test('a renewal counts from when its probe was sent, not from when it was answered', async () => {
    const f = fixture();
    await f.clock.run(f.presence.join());
    const sent = f.clock.now();
    await f.clock.advance(LEASE_MS / 2 + 1);
    // Both answers arrive now, for probes sent more than half a lease ago.
    f.presence.observe('n1', sent, []);
    f.presence.observe('n2', sent, []);
    expect(f.presence.fresh()).toBe(false);
  });

  test('waits out the leases of the others before it serves, and is not alone while they are live', async () => {
    const f = fixture();
    f.answers.set('n1', [other('pb')]);
    const joined = f.presence.join();
    let done = false;
    void joined.then(() => (done = true));
    await f.clock.advance(LEASE_MS - 1);
    expect(done).toBe(false);
    expect(f.presence.joined).toBe(false);
    await f.clock.advance(1);
    expect(done).toBe(true);
    expect(f.presence.otherIds()).toEqual(['pb']);
    f.presence.observe('n1', f.clock.now(), []);
    f.presence.observe('n2', f.clock.now(), []);
    expect(f.presence.alone()).toBe(false);
    // pb is taken for gone a lease after the node last heard of it, unless another probe lists it again.
    await f.clock.advance(1);
    expect(f.presence.otherIds()).toEqual([]);
  });

  test('keeps retrying while no majority answers', async () => {
    const f = fixture();
    f.answers.set('n1', new Error('down'));
    f.answers.set('n2', new Error('down'));
    const joined = f.presence.join();
    await f.clock.advance(JOIN_RETRY_MS * 3);
    expect(f.presence.joined).toBe(false);
    expect(f.registrations.length).toBeGreaterThanOrEqual(3 * NODES.length);
    f.answers.set('n2', []);
    await f.clock.advance(JOIN_RETRY_MS);
    await joined;
    expect(f.presence.joined).toBe(true);
  });

  test('gives up with DuplicateCoordinatorError when a live duplicate of its clock id stays', async () => {
    const f = fixture();
    f.answers.set('n2', new KvError(ErrorCode.DuplicateCoordinator, 'pa is live with another incarnation'));
    const outcome = f.clock.run(f.presence.join().then(() => 'joined', (error: unknown) => error));
    expect(await outcome).toBeInstanceOf(DuplicateCoordinatorError);
    expect(f.presence.joined).toBe(false);
  });

  test('a lapsed lease makes it rejoin in the background, and it does not serve meanwhile', async () => {
    const f = fixture();
    await f.clock.run(f.presence.join());
    f.answers.set('n1', [other('pb')]);
    f.presence.lapsed();
    expect(f.presence.joined).toBe(false);
    expect(f.presence.fresh()).toBe(false);
    await f.clock.advance(LEASE_MS);
    expect(f.presence.joined).toBe(true);
    expect(f.presence.otherIds()).toEqual(['pb']);
  });

  test('told of a duplicate after it joined, it stops serving, and reports the clock id taken if the other stays', async () => {
    const taken: DuplicateCoordinatorError[] = [];
    const f = fixture(taken);
    await f.clock.run(f.presence.join());
    for (const id of NODES) f.answers.set(id, new KvError(ErrorCode.DuplicateCoordinator, 'pa is live with another incarnation'));
    f.presence.duplicate();
    expect(f.presence.joined).toBe(false);
    await f.clock.advance(2 * LEASE_MS + 1000);
    expect(taken).toHaveLength(1);
    expect(taken[0].clockId).toBe('pa');
    expect(f.presence.joined).toBe(false);
  });

  test('told of a duplicate that is gone by the time it registers again, it serves again', async () => {
    const taken: DuplicateCoordinatorError[] = [];
    const f = fixture(taken);
    await f.clock.run(f.presence.join());
    f.presence.duplicate();
    await f.clock.advance(JOIN_RETRY_MS);
    expect(f.presence.joined).toBe(true);
    expect(taken).toEqual([]);
  });
});
