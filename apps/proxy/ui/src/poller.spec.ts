import { POLL_INTERVAL_MS, StatePoller, looksLikeState, type Connection, type FetchAnswer } from './poller';

const state = { nodes: [], ring: { shares: {}, sharesAfter: {}, arcs: [], moving: [] }, stats: { bucketSeconds: 2, times: [], routes: [] } };

/** A poller on fake timers and a scripted fetch. */
function harness(answers: (FetchAnswer | Error)[]) {
  const timers: { callback: () => void; ms: number; id: number }[] = [];
  const requests: Record<string, string>[] = [];
  const changes: Connection[] = [];
  let nextId = 0;
  const poller = new StatePoller({
    fetch: async (_url, init) => {
      requests.push(init.headers);
      const answer = answers.shift();
      if (answer === undefined) throw new Error('no answer scripted');
      if (answer instanceof Error) throw answer;
      return answer;
    },
    setTimeout: (callback, ms) => {
      const id = ++nextId;
      timers.push({ callback, ms, id });
      return id;
    },
    clearTimeout: (handle) => {
      const at = timers.findIndex((timer) => timer.id === handle);
      if (at >= 0) timers.splice(at, 1);
    },
    now: () => 5000,
    onChange: (connection) => changes.push(connection),
  });
  /** Fires the one pending timer and waits for the poll it starts. */
  const tick = async (): Promise<number> => {
    expect(timers).toHaveLength(1);
    const timer = timers.shift()!;
    timer.callback();
    await new Promise((resolve) => setImmediate(resolve));
    return timer.ms;
  };
  return { poller, timers, requests, changes, tick };
}

const ok = (body: unknown = state): FetchAnswer => ({ status: 200, json: async () => body });
const status = (code: number): FetchAnswer => ({ status: code, json: async () => ({}) });

describe('StatePoller', () => {
  test('polls every 2 s while the proxy answers', async () => {
    const h = harness([ok(), ok()]);
    h.poller.start();
    expect(await h.tick()).toBe(0);
    expect(h.changes).toEqual([{ kind: 'live', state }]);
    expect(await h.tick()).toBe(POLL_INTERVAL_MS);
    expect(h.changes).toHaveLength(2);
    expect(h.timers[0].ms).toBe(POLL_INTERVAL_MS);
  });

  test('a proxy that stops answering is shown offline and asked again after 1, 2, then 4 s until it is back', async () => {
    const h = harness([ok(), new Error('Failed to fetch'), new Error('Failed to fetch'), status(503), new Error('Failed to fetch'), ok()]);
    h.poller.start();
    await h.tick();
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) waits.push(await h.tick());
    expect(waits).toEqual([2000, 1000, 2000, 4000, 4000]);
    expect(h.changes.map((change) => change.kind)).toEqual(['live', 'offline', 'offline', 'offline', 'offline', 'live']);
    expect(h.changes[3]).toEqual({ kind: 'offline', since: 5000, error: 'the proxy answered 503', attempt: 3 });
    expect(h.timers[0].ms).toBe(POLL_INTERVAL_MS);
  });

  test('a 401 asks for the token and stops; the token then goes in the Authorization header; a refused one says so', async () => {
    const h = harness([status(401), status(401), ok()]);
    h.poller.start();
    await h.tick();
    expect(h.changes).toEqual([{ kind: 'needs-token', wrong: false }]);
    expect(h.timers).toHaveLength(0);
    h.poller.useToken('wrong');
    await h.tick();
    expect(h.changes[1]).toEqual({ kind: 'needs-token', wrong: true });
    h.poller.useToken('secret');
    await h.tick();
    expect(h.changes[2].kind).toBe('live');
    expect(h.requests.map((headers) => headers.authorization)).toEqual([undefined, 'Bearer wrong', 'Bearer secret']);
  });

  test('an answer that is not a state counts as a failure', async () => {
    const h = harness([ok({ error: 'x' })]);
    h.poller.start();
    await h.tick();
    expect(h.changes[0].kind).toBe('offline');
  });

  test('stop cancels the next poll', async () => {
    const h = harness([ok()]);
    h.poller.start();
    await h.tick();
    h.poller.stop();
    expect(h.timers).toHaveLength(0);
  });

  test('looksLikeState', () => {
    expect(looksLikeState(state)).toBe(true);
    expect(looksLikeState({ nodes: [] })).toBe(false);
    expect(looksLikeState(null)).toBe(false);
  });
});
