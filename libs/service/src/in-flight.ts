import type http from 'node:http';
import { ErrorCode, KvError } from '@kv/protocol';
import { parse, type Setting } from './config';

/**
 * Bounds on the work a server holds at once, in requests and in bytes: bodies being read or held, and the answers a
 * request builds (a batch of reads holds every value it read). Memory is bounded by bytes, not only by counts: a count
 * alone lets 1000 reads of 1 MiB values each build a gigabyte. Beyond a bound a request is refused with
 * `503 KV_OVERLOADED` and `Retry-After`, never left to exhaust the heap (docs/reliability.md, "Resource bounds").
 */
export interface InFlightLimits {
  /** Requests being served at once (`MAX_REQUESTS_IN_FLIGHT`). */
  requestsMax: number;
  /** Bytes of request bodies and answers held at once (`MAX_BYTES_IN_FLIGHT`). */
  bytesMax: number;
}

/** Defaults: far above what a healthy cluster holds (see docs/configuration.md), far below a 4 GB heap. */
export const IN_FLIGHT_LIMITS_DEFAULT: InFlightLimits = {
  requestsMax: 4096,
  bytesMax: 256 * 1024 * 1024,
};

/** Seconds a refused client is told to wait (`Retry-After`): the time a busy server needs to finish what it holds. */
export const RETRY_AFTER_S = 1;

/** What the limiter reports, for metrics. */
export interface InFlightEvents {
  refused?(reason: 'requests' | 'bytes'): void;
}

/**
 * Counts the requests and bytes a server holds, and refuses what would go beyond its limits. One per process. A request
 * is admitted with the bytes its `content-length` declares; a body without one is charged as it is read, and an
 * answer as it is built ({@link InFlightTicket.reserve}); everything is released when the response closes.
 */
export class InFlight {
  private requestsNow = 0;
  private bytesNow = 0;

  constructor(
    readonly limits: InFlightLimits = IN_FLIGHT_LIMITS_DEFAULT,
    private readonly events: InFlightEvents = {},
  ) {
    for (const name of ['requestsMax', 'bytesMax'] as const) {
      if (!Number.isSafeInteger(limits[name]) || limits[name] < 1) throw new TypeError(`${name} must be a positive integer, got ${limits[name]}`);
    }
  }

  /** Requests held now. */
  get requests(): number {
    return this.requestsNow;
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.bytesNow;
  }

  /**
   * Admits a request holding `bytes` (its declared body).
   * @throws KvError `KV_OVERLOADED` (503) when it would go beyond either limit. A single body larger than the whole
   *   byte limit is admitted when nothing else is held, so a limit below the body limits never makes a request
   *   impossible.
   */
  admit(bytes: number): InFlightTicket {
    if (this.requestsNow >= this.limits.requestsMax) {
      this.events.refused?.('requests');
      throw overloaded(`it serves ${this.requestsNow} requests, its limit (MAX_REQUESTS_IN_FLIGHT)`);
    }
    if (bytes > 0 && this.bytesNow > 0 && this.bytesNow + bytes > this.limits.bytesMax) {
      this.events.refused?.('bytes');
      throw overloaded(`it holds ${this.bytesNow} bytes of requests and answers; ${bytes} more would pass its limit (MAX_BYTES_IN_FLIGHT=${this.limits.bytesMax})`);
    }
    this.requestsNow += 1;
    this.bytesNow += bytes;
    return new InFlightTicket(this, bytes);
  }

  /** @internal Takes `bytes` more for a ticket; false (and nothing taken) when that would pass the limit. */
  take(bytes: number): boolean {
    if (bytes > 0 && this.bytesNow + bytes > this.limits.bytesMax) {
      this.events.refused?.('bytes');
      return false;
    }
    this.bytesNow += bytes;
    return true;
  }

  /** @internal Gives back a ticket's request and bytes. */
  give(bytes: number): void {
    this.requestsNow -= 1;
    this.bytesNow -= bytes;
  }
}

/** One admitted request's share of an {@link InFlight}: released once, when its response closes. */
export class InFlightTicket {
  private released = false;

  constructor(
    private readonly owner: InFlight,
    private held: number,
  ) {}

  /** Bytes this request holds. */
  get bytes(): number {
    return this.held;
  }

  /** The limits of the process this ticket counts in. */
  get limits(): InFlightLimits {
    return this.owner.limits;
  }

  /**
   * Reserves `bytes` more for this request (a body read without a declared length, values an answer collects).
   * @returns false, reserving nothing, when the process would go beyond `MAX_BYTES_IN_FLIGHT`: the caller fails that
   *   part with {@link overloadedBytes}.
   */
  reserve(bytes: number): boolean {
    if (this.released) return true;
    if (!this.owner.take(bytes)) return false;
    this.held += bytes;
    return true;
  }

  /** Gives everything back (idempotent). */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.owner.give(this.held);
  }
}

function overloaded(why: string): KvError {
  return new KvError(ErrorCode.Overloaded, `this server is at capacity: ${why}; retry in ${RETRY_AFTER_S} s`);
}

/** The error of a part of a request (a value of a batch's answer) refused by the byte limit. */
export function overloadedBytes(limits: InFlightLimits): KvError {
  return overloaded(`the requests in flight hold its byte limit (MAX_BYTES_IN_FLIGHT=${limits.bytesMax})`);
}

const tickets = new WeakMap<http.IncomingMessage, InFlightTicket>();

/** Links a request to its ticket, so that reading its body charges it (see `readBody`). */
export function attachTicket(req: http.IncomingMessage, ticket: InFlightTicket): void {
  tickets.set(req, ticket);
}

/** The ticket of a request admitted by a limiter, if any. */
export function ticketOf(req: http.IncomingMessage): InFlightTicket | undefined {
  return tickets.get(req);
}

/**
 * The settings of the in-flight bounds, shared by the proxy and the data node (each spreads them into its own table):
 * `MAX_REQUESTS_IN_FLIGHT` and `MAX_BYTES_IN_FLIGHT`.
 */
export const IN_FLIGHT_SETTINGS = {
  maxRequestsInFlight: {
    env: 'MAX_REQUESTS_IN_FLIGHT',
    parse: parse.integer(1, 1_000_000),
    default: IN_FLIGHT_LIMITS_DEFAULT.requestsMax,
    describe: 'requests served at once; more are refused with 503 KV_OVERLOADED and Retry-After',
  } satisfies Setting<number>,
  maxBytesInFlight: {
    env: 'MAX_BYTES_IN_FLIGHT',
    parse: parse.integer(1024 * 1024, 64 * 1024 * 1024 * 1024),
    default: IN_FLIGHT_LIMITS_DEFAULT.bytesMax,
    describe: 'bytes of request bodies and answers held at once; beyond it requests are refused with 503 KV_OVERLOADED',
  } satisfies Setting<number>,
};
