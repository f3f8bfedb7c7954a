import type { UiState } from '../../src/ui/ui-state';

/** How often the page asks for the state while the proxy answers. */
export const POLL_INTERVAL_MS = 2000;
/** Waits between attempts while the proxy does not answer: short at first (a restart), then at most this. */
export const RETRY_DELAYS_MS = [1000, 2000, 4000] as const;

/** What the page shows about its connection. */
export type Connection =
  | { kind: 'connecting' }
  | { kind: 'live'; state: UiState }
  /** The proxy did not answer (restarting, or unreachable): the last state stays shown, marked stale. */
  | { kind: 'offline'; since: number; error: string; attempt: number }
  /** The proxy wants a token (AUTH_TOKEN): `wrong` when the one sent was refused. */
  | { kind: 'needs-token'; wrong: boolean };

/** One answer to a state request, as the poller needs it. */
export interface FetchAnswer {
  status: number;
  json(): Promise<unknown>;
}

/** What the poller runs on (injected, so that its logic is tested without a browser or a timer). */
export interface PollerDeps {
  fetch: (url: string, init: { headers: Record<string, string> }) => Promise<FetchAnswer>;
  setTimeout: (callback: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
  now: () => number;
  /** Receives every change of connection, and every new state. */
  onChange: (connection: Connection) => void;
  /** The URL of the state (default `ui/state` relative to the page, so a proxy behind a path prefix works). */
  url?: string;
}

/**
 * Asks the proxy for `GET /ui/state` every {@link POLL_INTERVAL_MS}; after a failure tries again after 1, 2, then
 * every 4 s, so the page comes back by itself when the proxy restarts. A 401 stops it until a token is given
 * ({@link StatePoller.useToken}); the token travels only in the `Authorization` header.
 */
export class StatePoller {
  private token: string | undefined;
  private timer: unknown;
  private failures = 0;
  private offlineSince = 0;
  private stopped = true;
  /** Bumped by every start, so an answer of an earlier round is dropped. */
  private round = 0;

  constructor(private readonly deps: PollerDeps) {}

  /** Starts polling (at once). */
  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops polling. */
  stop(): void {
    this.stopped = true;
    this.round++;
    if (this.timer !== undefined) this.deps.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Sends `token` from now on (empty: none) and asks again at once. */
  useToken(token: string): void {
    this.token = token === '' ? undefined : token;
    this.stop();
    this.start();
  }

  /** Asks once now; resolves when the answer was handled. Exposed for tests, which drive the timers themselves. */
  async poll(): Promise<void> {
    const round = this.round;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    let answer: FetchAnswer;
    let body: unknown;
    try {
      answer = await this.deps.fetch(this.deps.url ?? 'ui/state', { headers });
      if (answer.status === 200) body = await answer.json();
    } catch (error) {
      if (round === this.round) this.failed(error instanceof Error ? error.message : String(error));
      return;
    }
    if (round !== this.round || this.stopped) return;
    if (answer.status === 401) {
      this.deps.onChange({ kind: 'needs-token', wrong: this.token !== undefined });
      return;
    }
    if (answer.status !== 200 || !looksLikeState(body)) {
      this.failed(`the proxy answered ${answer.status}`);
      return;
    }
    this.failures = 0;
    this.deps.onChange({ kind: 'live', state: body });
    this.schedule(POLL_INTERVAL_MS);
  }

  private failed(error: string): void {
    if (this.stopped) return;
    if (this.failures === 0) this.offlineSince = this.deps.now();
    this.failures++;
    this.deps.onChange({ kind: 'offline', since: this.offlineSince, error, attempt: this.failures });
    this.schedule(RETRY_DELAYS_MS[Math.min(this.failures, RETRY_DELAYS_MS.length) - 1]);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer !== undefined) this.deps.clearTimeout(this.timer);
    this.timer = this.deps.setTimeout(() => {
      this.timer = undefined;
      void this.poll();
    }, ms);
  }
}

/** A light check that an answer is a state (a proxy of another version, or a page cached elsewhere, may send anything). */
export function looksLikeState(body: unknown): body is UiState {
  if (typeof body !== 'object' || body === null) return false;
  const raw = body as Partial<UiState>;
  return Array.isArray(raw.nodes) && typeof raw.ring === 'object' && raw.ring !== null && typeof raw.stats === 'object' && raw.stats !== null;
}
