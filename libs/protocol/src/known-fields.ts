import { ErrorCode } from './errors';
import { KvError } from './kv-error';

/**
 * Requests name only what their endpoint understands. A field or query parameter this version does not know is refused
 * with `KV_BAD_REQUEST` naming it, never ignored: a client that sends `"ttl"` to a server without expiry, or an option a
 * later version adds, must learn that it was not applied (docs/protocol/http.md, "Unknown fields").
 */

/** Longest part of an unknown name quoted in a message (the rest is the caller's, and may be large). */
const NAME_SHOWN_MAX = 64;

function quoted(name: string): string {
  return JSON.stringify(name.length > NAME_SHOWN_MAX ? `${name.slice(0, NAME_SHOWN_MAX)}...` : name);
}

function accepted(allowed: readonly string[]): string {
  return allowed.length === 0 ? 'none' : allowed.map((name) => JSON.stringify(name)).join(', ');
}

/**
 * Refuses an object (a parsed JSON body, or one object inside it) with a property outside `allowed`.
 * @param where what the object is, for the message: "the request body", "batch operation 3", ...
 * @throws KvError `KV_BAD_REQUEST`: `unknown field "ttl" in the request body (accepted: "value")`.
 */
export function assertKnownFields(object: object, allowed: readonly string[], where: string): void {
  for (const name in object) {
    if (!Object.prototype.hasOwnProperty.call(object, name)) continue;
    if (!allowed.includes(name)) {
      throw new KvError(ErrorCode.BadRequest, `unknown field ${quoted(name)} in ${where} (accepted: ${accepted(allowed)})`);
    }
  }
}

/** A query string as servers hold it: `URLSearchParams`, or the object of Express's simple query parser. */
export type QueryLike = URLSearchParams | Readonly<Record<string, unknown>>;

/**
 * Refuses a query string with a parameter outside `allowed`.
 * @param route the request, for the message: "PUT /kv/{key}", "GET /health", ...
 * @throws KvError `KV_BAD_REQUEST`: `unknown query parameter "x" for GET /kv/{key} (accepted: "r")`.
 */
export function assertKnownParams(query: QueryLike | undefined, allowed: readonly string[], route: string): void {
  if (query === undefined) return;
  const names = query instanceof URLSearchParams ? query.keys() : Object.keys(query);
  for (const name of names) {
    if (!allowed.includes(name)) {
      throw new KvError(ErrorCode.BadRequest, `unknown query parameter ${quoted(name)} for ${route} (accepted: ${accepted(allowed)})`);
    }
  }
}
