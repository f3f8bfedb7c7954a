/**
 * A reply, before it is encoded for the connection's protocol version: the RESP3 types, which {@link encodeReply}
 * writes as their RESP2 equivalents on a RESP2 connection.
 */
export type Reply =
  | { readonly type: 'simple'; readonly value: string }
  | { readonly type: 'error'; readonly message: string }
  | { readonly type: 'integer'; readonly value: number }
  | { readonly type: 'bulk'; readonly value: string | Uint8Array }
  | { readonly type: 'null' }
  | { readonly type: 'array'; readonly value: readonly Reply[] }
  | { readonly type: 'map'; readonly value: readonly (readonly [Reply, Reply])[] }
  | { readonly type: 'set'; readonly value: readonly Reply[] }
  | { readonly type: 'double'; readonly value: number }
  | { readonly type: 'boolean'; readonly value: boolean }
  | { readonly type: 'verbatim'; readonly format: string; readonly value: string };

/** Builders of {@link Reply} values. */
export const reply = {
  ok: { type: 'simple', value: 'OK' } as Reply,
  nil: { type: 'null' } as Reply,
  simple: (value: string): Reply => ({ type: 'simple', value }),
  /** An error reply; `message` starts with its code (`ERR`, `TRYAGAIN`, ...) and has no line break. */
  error: (message: string): Reply => ({ type: 'error', message }),
  integer: (value: number): Reply => ({ type: 'integer', value }),
  bulk: (value: string | Uint8Array): Reply => ({ type: 'bulk', value }),
  array: (value: readonly Reply[]): Reply => ({ type: 'array', value }),
  map: (value: readonly (readonly [Reply, Reply])[]): Reply => ({ type: 'map', value }),
  set: (value: readonly Reply[]): Reply => ({ type: 'set', value }),
  double: (value: number): Reply => ({ type: 'double', value }),
  boolean: (value: boolean): Reply => ({ type: 'boolean', value }),
  verbatim: (value: string, format = 'txt'): Reply => ({ type: 'verbatim', format, value }),
  /** A map whose keys are bulk strings, from an object (values already replies). */
  fields: (entries: Record<string, Reply>): Reply => ({
    type: 'map',
    value: Object.entries(entries).map(([key, value]) => [{ type: 'bulk', value: key }, value] as const),
  }),
};

/** True when `r` is an error reply. */
export function isErrorReply(r: Reply): r is { type: 'error'; message: string } {
  return r.type === 'error';
}
