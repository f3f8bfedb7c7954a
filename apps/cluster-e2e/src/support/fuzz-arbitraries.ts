import http from 'node:http';
import fc from 'fast-check';
import { BATCH_OPS_MAX, INTERNAL_BATCH_OPS_MAX, KEY_BYTES_MAX, encodeKey } from '@kv/protocol';
import type { FuzzRequest } from './fuzz-http';
import type { FuzzApi } from './fuzz-oracle';

/**
 * fast-check arbitraries of the fuzz suite: paths, queries, methods, headers and bodies of requests to the proxy's
 * public API and to a data node's internal API, valid and not, and raw byte streams that are not valid HTTP at all.
 * Sizes stay near the limits that matter (1024-byte keys, `MAX_VALUE_BYTES`, 1000 and 4000 operations, 16 KiB of
 * headers) without generating megabytes per case.
 */

/** The server a generated request is for. */
export interface FuzzTarget {
  api: FuzzApi;
  /** The token the server requires (`AUTH_TOKEN` or `CLUSTER_TOKEN`), or undefined when it requires none. */
  token?: string;
  /** N, for `?w=` and `?r=` and the acknowledgements a write reports. */
  replicas: number;
  /** The server's `MAX_VALUE_BYTES`. */
  maxValueBytes: number;
  /** The body limit of a single-key write, in bytes (`singleBodyBytesMax`). */
  singleBodyBytesMax: number;
}

/** A generated request and what the oracle must know about it. */
export interface GeneratedRequest {
  request: FuzzRequest;
  /** Why Node's HTTP layer may refuse it before kv's handler runs; undefined for valid HTTP/1.1 within Node's limits. */
  nodeRefusal?: string;
  /** Node's HTTP layer must refuse it (an unknown method, headers well over 16 KiB, ...): kv's handler never sees it. */
  nodeMustRefuse: boolean;
  /** The body is over the route's limit (the server may close while the client still sends). */
  bodyOverLimit: boolean;
  /** The server requires no token, or the request carries the right one as the server reads it. */
  authorized: boolean;
  /** Operations of a batch body with the `{"ops": [...]}` shape within the operation limit. */
  batchOps?: number;
}

/** Header lines in order, names as sent; a name may repeat. */
type HeaderList = Array<[string, string]>;

/** `text`, cut to `length` characters with its full length noted, for failure messages. */
export function shorten(text: string, length = 120): string {
  return text.length > length ? `${text.slice(0, length)}... (${text.length} chars)` : text;
}

/** A readable account of a generated request (fast-check prints it for a counterexample instead of the raw object). */
export function describeRequest(generated: GeneratedRequest): string {
  const { request } = generated;
  const body = request.body === undefined ? 'none' : `${request.body.length} bytes ${JSON.stringify(shorten(request.body.toString('latin1'), 200))}`;
  return [
    `${request.method} ${shorten(request.path, 300)}${request.omitHost === true ? ' (no Host)' : ''}`,
    ...request.headers.map(([name, value]) => `  ${name}: ${shorten(value, 80)}`),
    `  body: ${body}`,
  ].join('\n');
}

/** Gives `value` a summary that fast-check prints in place of the value (counterexamples can be megabytes). */
function withSummary<T extends object>(value: T, summary: (value: T) => string): T {
  Object.defineProperty(value, fc.toStringMethod, { value: () => `\n${summary(value)}\n`, enumerable: false });
  return value;
}

/** `arbitrary` drawn `weight` times as often as a weight of 1, in {@link fc.oneof}. */
function weighted<T>(weight: number, arbitrary: fc.Arbitrary<T>): fc.WeightedArbitrary<T> {
  return { weight, arbitrary };
}

/** Node refuses headers (request line included) over 16 KiB; below this the suite expects no refusal. */
const HEADER_BYTES_SAFE = 15 * 1024;
/** Node's `maxHeaderSize` (createHttpServer states it). */
const HEADER_BYTES_MAX = 16 * 1024;

// ---------------------------------------------------------------------------------------------------------------------
// Keys, values, versions

/** Keys of a small pool, so that fuzzed writes and reads meet on the same keys. */
const POOL_KEYS = ['a', 'b', 'k', 'key 1', 'ключ', '🔑', '.', '..', 'a/b', '%', '+'];

/** A valid key: 1 to 1024 bytes of well-formed UTF-8 (some exactly 1024, in 1-, 2-, 3- and 4-byte characters). */
export const validKeyArb: fc.Arbitrary<string> = fc
  .oneof(
    weighted(3, fc.constantFrom(...POOL_KEYS)),
    weighted(4, fc.string({ unit: 'grapheme', minLength: 1, maxLength: 24 })),
    weighted(2, fc.string({ unit: 'binary', minLength: 1, maxLength: 24 })),
    weighted(1, fc.constantFrom('k'.repeat(KEY_BYTES_MAX), 'é'.repeat(KEY_BYTES_MAX / 2), '€'.repeat(341) + 'k', '😀'.repeat(KEY_BYTES_MAX / 4))),
  )
  .filter((key) => Buffer.byteLength(key) <= KEY_BYTES_MAX);

/** Pieces of percent-encoded segments: valid escapes, broken ones, overlong and surrogate UTF-8, dot segments. */
const SEGMENT_PIECES = [
  '%zz', '%', '%2', '%g0', '%C0%AF', '%C0%80', '%ED%A0%80', '%ED%BF%BF', '%00', '%FF', '%fe', '%80', '%2F', '%2f', '%2E', '%2e',
  '.', '..', '%25', '%2525', '+', '%20', '%E2%82', '%E2%82%AC', '%F0%9F%98%80', '%F4%90%80%80', '%C3%A9', '%C3', 'a', 'k',
  '~', '!', '*', "'", '(', ')', ':', '@', '&', '=', '$', ',', ';', '%3F', '%23', '%0A', '%0D%0A', '%7F', 'é',
].map((piece) => (/^[\x21-\x7e]*$/.test(piece) ? piece : encodeURIComponent(piece)));

/** A key path segment as a client might send it, valid or not, from empty to far beyond 1024 bytes. */
export const keySegmentArb: fc.Arbitrary<string> = fc.oneof(
  weighted(4, validKeyArb.map(encodeKey)),
  weighted(4, fc.array(fc.constantFrom(...SEGMENT_PIECES), { maxLength: 8 }).map((pieces) => pieces.join(''))),
  weighted(
    2,
    fc.oneof(
      fc.integer({ min: KEY_BYTES_MAX - 4, max: KEY_BYTES_MAX + 4 }).map((n) => 'k'.repeat(n)),
      fc.integer({ min: 339, max: 343 }).map((n) => '%E2%82%AC'.repeat(n)),
      fc.integer({ min: 3 * KEY_BYTES_MAX - 4, max: 3 * KEY_BYTES_MAX + 4 }).map((n) => '%41'.repeat(Math.ceil(n / 3)).slice(0, n)),
      fc.integer({ min: 4 * KEY_BYTES_MAX, max: 12 * KEY_BYTES_MAX }).map((n) => 'k'.repeat(n)),
    ),
  ),
  weighted(1, fc.string({ unit: fc.constantFrom(...'abc%/.?#=&+-_~!$\'()*,;:@'), maxLength: 12 })),
  weighted(1, fc.constant('')),
);

/** A value: small strings of any Unicode, and sizes around `maxValueBytes` in 1-, 2- and 3-byte characters. */
export function validValueArb(maxValueBytes: number): fc.Arbitrary<string> {
  return fc.oneof(
    weighted(6, fc.string({ unit: 'grapheme', maxLength: 40 })),
    weighted(2, fc.string({ unit: 'binary', maxLength: 40 })),
    weighted(
      1,
      fc.constantFrom(
        'v'.repeat(maxValueBytes),
        'é'.repeat(Math.floor(maxValueBytes / 2)),
        '€'.repeat(Math.floor(maxValueBytes / 3)),
        '\u0001'.repeat(maxValueBytes),
        '"\\'.repeat(Math.floor(maxValueBytes / 2)),
      ),
    ),
  );
}

/** A value that is not valid: too long by a little, a lone surrogate. */
function invalidValueArb(maxValueBytes: number): fc.Arbitrary<string> {
  return fc.oneof(
    fc.integer({ min: 1, max: 8 }).map((n) => 'v'.repeat(maxValueBytes + n)),
    fc.constant('é'.repeat(Math.floor(maxValueBytes / 2) + 1)),
    fc.constantFrom('\ud800', 'a\udfffb', '\udc00\ud800', 'x'.repeat(10) + '\ud83d'),
  );
}

const hex = (n: number, digits: number): string => n.toString(16).padStart(digits, '0');

/** A date for versions: fixed rather than now, so that a seed replays the same versions. */
const VERSION_MS_RECENT = Date.UTC(2026, 0, 1);

/** A well-formed version (`<12 hex>-<4 hex>-<clock id>`): recent, the oldest, or the newest possible. */
const validVersionArb: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof(fc.integer({ min: VERSION_MS_RECENT - 3_600_000, max: VERSION_MS_RECENT }), fc.constantFrom(0, 2 ** 48 - 1)),
    fc.integer({ min: 0, max: 0xffff }),
    fc.string({ unit: fc.constantFrom(...'abcxyz0189_-'), minLength: 1, maxLength: 16 }),
  )
  .map(([ms, counter, clock]) => `${hex(ms, 12)}-${hex(counter, 4)}-${clock}`);

/** Versions that are not: wrong widths, upper case, a clock id too long or with other characters, other JSON types. */
const invalidVersionArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    '', 'x', '0192F1A2B3C4-0000-proxy', '0192f1a2b3c-0000-proxy', '0192f1a2b3c4-000-proxy', '0192f1a2b3c4-0000-',
    '0192f1a2b3c4-0000-' + 'p'.repeat(17), '0192f1a2b3c4-0000-Proxy', '0192f1a2b3c4-0000-pro xy', ' 0192f1a2b3c4-0000-proxy',
    '0192f1a2b3c4_0000_proxy',
  ),
  fc.constantFrom(null, 42, true, ['0192f1a2b3c4-0000-proxy'], { v: 1 }),
);

const versionArb: fc.Arbitrary<unknown> = fc.oneof(weighted(4, validVersionArb), weighted(1, invalidVersionArb));

// ---------------------------------------------------------------------------------------------------------------------
// Query strings, methods, paths

const QUORUM_VALUES = ['0', '1', '2', '3', '4', '01', '1.5', 'two', '-1', '+1', '', '99999999999', '%31', '%201', '1e0', '0x1', '%zz', '1%00'];

function queryArb(extraNames: string[]): fc.Arbitrary<string> {
  const asciiText = fc.string({ unit: 'grapheme-ascii', maxLength: 6 });
  const param = fc.oneof(
    weighted(4, fc.tuple(fc.constantFrom('w', 'r', ...extraNames), fc.constantFrom(...QUORUM_VALUES)).map(([name, value]) => `${name}=${value}`)),
    weighted(1, fc.constantFrom('w', 'r', '=', '', 'w[]=1', 'W=1', '%77=1', '%zz', 'a=%zz', 'x=y', 'junk', 'w=1=1', 'r=%')),
    weighted(1, fc.tuple(asciiText, asciiText).map(([a, b]) => `${encodeURIComponent(a)}=${encodeURIComponent(b)}`)),
  );
  const params = fc.array(param, { minLength: 1, maxLength: 4 });
  return fc.oneof(
    weighted(3, fc.constant('')),
    weighted(3, params.map((list) => `?${list.join('&')}`)),
    weighted(1, fc.constantFrom('?', '??', '?&&', '?w=1#frag', '#frag')),
  );
}

/** Methods: the API's, others Node knows (`http.METHODS`), and tokens Node's parser refuses. */
const anyMethodArb: fc.Arbitrary<string> = fc.oneof(
  weighted(8, fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS')),
  weighted(2, fc.constantFrom('TRACE', 'PROPFIND', 'MKCOL', 'M-SEARCH', 'PURGE', 'LINK', 'QUERY', 'SEARCH', 'COPY')),
  weighted(1, fc.constantFrom('FOO', 'get', 'Get', 'X-CUSTOM', 'BREW', 'PUTT')),
);

/** Mostly the methods of a route, sometimes any other. */
const routeMethodArb = (...methods: string[]): fc.Arbitrary<string> => fc.oneof(weighted(8, fc.constantFrom(...methods)), weighted(2, anyMethodArb));

const OTHER_PUBLIC_PATHS = [
  '/health', '/cluster', '/metrics', '/Health', '/health/', '/CLUSTER/', '/metrics?x=1', '/health?%zz', '/', '/kv', '/kv/', '/kvx/a',
  '/KV/a', '//kv/a', '/batch/', '/BATCH', '/batch/x', '/internal/batch', '/internal/kv/a', '*', '/..', '/./kv/a', '/kv/./a',
  '/kv/../health', '/%2e%2e/health', '/health%00', '/favicon.ico', '/kv%2Fa', '//', '///health',
];
const OTHER_INTERNAL_PATHS = [
  '/health', '/metrics', '/HEALTH/', '/internal', '/internal/', '/INTERNAL/kv/a', '/internal/kv', '/internal/kv/', '/internal/kv/a/b',
  '/kv/a', '/batch', '/internal/batch/', '/internal/batch?x=1', '/Internal/Batch', '/internal//kv/a', '/internal/kv%2Fa',
  '/internal/../health', '/cluster', '*', '/', '/internal/batch%00', '/internal/entries', '/internal/entries?x=1', '/INTERNAL/ENTRIES/',
];

/** A path of random segments, made of the segment pieces and printable ASCII. */
const randomPathArb: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      fc.constantFrom(...SEGMENT_PIECES, 'kv', 'batch', 'internal', 'health', ''),
      fc.string({ unit: 'grapheme-ascii', maxLength: 6 }).map(encodeURIComponent),
    ),
    { maxLength: 6 },
  )
  .map((segments) => `/${segments.join('/')}`);

// ---------------------------------------------------------------------------------------------------------------------
// Headers

/** Authorization headers: mostly the right token, sometimes none, a wrong one, another scheme, or repeated. */
function authArb(token: string | undefined): fc.Arbitrary<HeaderList> {
  const t = token ?? 'no-token-needed';
  const right: HeaderList = [['authorization', `Bearer ${t}`]];
  const wrongValues = [
    'Bearer wrong', `bearer ${t}`, `Bearer ${t}x`, t, `Basic ${Buffer.from(`user:${t}`).toString('base64')}`, 'Bearer', 'Bearer ',
    `Bearer  ${t}`, `Bearer ${t.slice(0, -1)}`, `Bearer ${t}, Bearer x`, `Bearer\t${t}`, `BEARER ${t}`, `Token ${t}`, '',
  ];
  const wrong = fc.constantFrom(...wrongValues);
  return fc.oneof(
    weighted(14, fc.constant(right)),
    // Node trims the blanks around a header value: this one is right.
    weighted(1, fc.constant<HeaderList>([['authorization', `  Bearer ${t}  `]])),
    weighted(2, fc.constant<HeaderList>([])),
    weighted(3, wrong.map((value): HeaderList => [['authorization', value]])),
    weighted(1, wrong.chain((value) => fc.constantFrom<HeaderList>([...right, ['authorization', value]], [['authorization', value], ...right]))),
  );
}

/**
 * Whether the server reads the right token: Node keeps the first `authorization` header and trims its blanks; the
 * scheme is matched in any case (RFC 7235), the token exactly.
 */
function isAuthorized(headers: HeaderList, token: string | undefined): boolean {
  if (token === undefined) return true;
  const first = headers.find(([name]) => name.toLowerCase() === 'authorization');
  const value = first?.[1].replace(/^[ \t]+|[ \t]+$/g, '');
  return value !== undefined && /^bearer /i.test(value) && value.slice(7) === token;
}

const CONTENT_TYPES = [
  'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '',
  'application/json; charset=latin1', '*/*', 'garbage;;;', 'application/octet-stream', 'APPLICATION/JSON',
];

const contentTypeArb: fc.Arbitrary<HeaderList> = fc.oneof(
  weighted(3, fc.constant<HeaderList>([['content-type', 'application/json']])),
  weighted(2, fc.constant<HeaderList>([])),
  weighted(
    3,
    fc
      .array(fc.constantFrom(...CONTENT_TYPES), { minLength: 1, maxLength: 2 })
      .map((values) => values.map((value): [string, string] => ['content-type', value])),
  ),
);

const requestIdArb: fc.Arbitrary<HeaderList> = fc.oneof(
  weighted(3, fc.constant<HeaderList>([])),
  weighted(1, fc.string({ unit: 'grapheme-ascii', maxLength: 140 }).map((id): HeaderList => [['x-request-id', id]])),
  weighted(
    1,
    fc
      .constantFrom('x'.repeat(128), 'x'.repeat(129), 'a b', 'é', '<script>')
      .map((id): HeaderList => [['x-request-id', id], ['x-request-id', 'second']]),
  ),
);

const tokenChars = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_.!#$%&\'*+^`|~');

/** Headers of no meaning to kv, of ordinary size or large (near and over Node's 16 KiB limit). */
const extraHeadersArb: fc.Arbitrary<HeaderList> = fc.array(
  fc.tuple(
    fc.string({ unit: tokenChars, minLength: 1, maxLength: 12 }).map((name) => `x-fz-${name}`),
    fc.oneof(
      weighted(8, fc.string({ unit: 'grapheme-ascii', maxLength: 40 })),
      weighted(1, fc.integer({ min: 1000, max: 20_000 }).map((n) => 'v'.repeat(n))),
    ),
  ),
  { maxLength: 4 },
);

/**
 * Headers that change how Node treats the connection or the request. `Upgrade` is left out: the servers refuse an
 * upgrade and close the connection, which would end the shared keep-alive connections of these cases; it has its own
 * test in fuzz.spec.ts.
 */
const connectionHeadersArb: fc.Arbitrary<{ headers: HeaderList; omitHost: boolean }> = fc.oneof(
  weighted(10, fc.constant({ headers: [] as HeaderList, omitHost: false })),
  weighted(
    4,
    fc
      .constantFrom<HeaderList>(
        [['connection', 'close']],
        [['connection', 'keep-alive']],
        [['expect', '100-continue']],
        [['expect', 'foo']],
        [['accept', 'text/html']],
        [['accept-encoding', 'gzip, br']],
        [['content-encoding', 'gzip']],
        [['range', 'bytes=0-1']],
        [['host', 'evil.example']],
        [['cookie', 'a=b']],
        [['if-none-match', '*']],
        [['te', 'trailers']],
      )
      .map((headers) => ({ headers, omitHost: false })),
  ),
  weighted(1, fc.constant({ headers: [] as HeaderList, omitHost: true })),
);

// ---------------------------------------------------------------------------------------------------------------------
// Bodies

interface BodyCase {
  body?: Buffer;
  /** Operations, for a batch body of the right shape within the operation limit. */
  batchOps?: number;
}

const json = (value: unknown): BodyCase => ({ body: Buffer.from(JSON.stringify(value)) });
const text = (value: string): BodyCase => ({ body: Buffer.from(value) });

/** Nested JSON `depth` levels deep: arrays, or objects. */
function nested(depth: number, objects: boolean): string {
  return objects ? '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) : '['.repeat(depth) + ']'.repeat(depth);
}

const JUNK_BODIES = [
  '', ' ', 'null', 'undefined', '{', '}', '[]', '"x"', '0', 'value=x', '{"value":"x"}garbage', '\ufeff{"value":"x"}',
  '{"value":"x","value":1}', '{"value":"x",}', "{'value':'x'}", '{"value":"\\x41"}', '{"value":"\\ud800"}', '{"ops":[]}',
];

/** Byte sequences that are not UTF-8: a stray byte, overlong, an encoded surrogate, cut, a 5-byte form, a lone continuation. */
const NOT_UTF8 = [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80]];

/** Bodies that are no JSON, or not UTF-8, or cut short, whatever the route. */
const junkBodyArb: fc.Arbitrary<BodyCase> = fc.oneof(
  fc.constantFrom(...JUNK_BODIES).map(text),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ body: Buffer.from(bytes) })),
  fc.tuple(fc.jsonValue({ maxDepth: 3 }), fc.nat()).map(([value, cut]) => {
    const whole = JSON.stringify(value) ?? 'null';
    return text(whole.slice(0, cut % (whole.length + 1)));
  }),
  fc.tuple(fc.integer({ min: 1, max: 20_000 }), fc.boolean()).map(([depth, objects]) => text(nested(depth, objects))),
  fc.constantFrom(...NOT_UTF8).map((bytes) => ({ body: Buffer.concat([Buffer.from('{"value":"a'), Buffer.from(bytes), Buffer.from('b"}')]) })),
);

/** A `ttl`: valid ones (1 s to 10 years) and the ones around the bounds or of the wrong type. */
const ttlArb: fc.Arbitrary<unknown> = fc.oneof(
  weighted(3, fc.integer({ min: 1, max: 315_360_000 })),
  weighted(2, fc.constantFrom(0, -1, 1.5, 315_360_001, Number.MAX_SAFE_INTEGER, '30', null, true, [30], { s: 1 })),
);

/** Bodies of `PUT /kv/{key}`: valid, wrong shapes, values at and over the limit, bodies over the body limit. */
function putBodyArb(target: FuzzTarget): fc.Arbitrary<BodyCase> {
  const value = validValueArb(target.maxValueBytes);
  const notAStringValue = fc
    .oneof(fc.jsonValue({ maxDepth: 3 }), fc.jsonValue({ maxDepth: 2 }).map((v) => ({ value: v })), fc.constant({}), fc.constant({ val: 'x' }))
    .filter((body) => typeof (body as { value?: unknown } | null)?.value !== 'string');
  return fc.oneof(
    weighted(6, value.map((v) => json({ value: v }))),
    weighted(2, fc.tuple(value, ttlArb).map(([v, ttl]) => json({ value: v, ttl }))),
    weighted(1, fc.tuple(value, fc.jsonValue({ maxDepth: 2 })).map(([v, extra]) => json({ extra, value: v, more: extra }))),
    weighted(2, invalidValueArb(target.maxValueBytes).map((v) => json({ value: v }))),
    weighted(2, notAStringValue.map(json)),
    weighted(1, fc.integer({ min: 1, max: 20_000 }).map((depth) => text(`{"value":${nested(depth, depth % 2 === 0)}}`))),
    weighted(1, fc.integer({ min: 1, max: 64 }).map((n) => text(`{"value":"${'v'.repeat(target.singleBodyBytesMax + n)}"}`))),
    // Far over the limit: the server stops reading, answers 413 and closes while the client is still sending.
    weighted(1, fc.integer({ min: 4, max: 25 }).map((n) => ({ body: Buffer.alloc(target.singleBodyBytesMax * n, 'v') }))),
    weighted(3, junkBodyArb),
  );
}

const INVALID_BATCH_OPS: unknown[] = [
  { op: 'put', key: 'k' }, { op: 'SET', key: 'k', value: 'v' }, { op: 'set', key: 1, value: 'v' }, { op: 'set', key: '', value: 'v' },
  { op: 'get', key: 'k'.repeat(KEY_BYTES_MAX + 1) }, { op: 'set', key: 'k', value: 1 }, { op: 'set', value: 'x' }, { op: 'set', key: 'k' },
  { op: 'del', key: 'a\ud800' }, { op: 'get' }, { key: 'k' }, 'set', null, [], ['set', 'k', 'v'], 42, { op: null }, { op: ['get'], key: 'k' },
];

/** An operation of a public batch, valid or not. */
function batchOpArb(target: FuzzTarget): fc.Arbitrary<unknown> {
  const valid = fc
    .tuple(fc.constantFrom('set', 'get', 'del'), validKeyArb, validValueArb(Math.min(target.maxValueBytes, 64)))
    .map(([op, key, value]) => (op === 'set' ? { op, key, value } : { op, key }));
  const expiring = fc.tuple(validKeyArb, validValueArb(Math.min(target.maxValueBytes, 64)), ttlArb).map(([key, value, ttl]) => ({ op: 'set', key, value, ttl }));
  const invalid = fc.oneof(
    fc.constantFrom(...INVALID_BATCH_OPS),
    invalidValueArb(target.maxValueBytes).map((value) => ({ op: 'set', key: 'k', value })),
    fc.jsonValue({ maxDepth: 2 }),
  );
  return fc.oneof(weighted(6, valid), weighted(2, expiring), weighted(3, invalid));
}

/**
 * A batch body of `count` operations: the first drawn, the others reads of a few keys, so that a batch at the
 * operation limit costs milliseconds, not seconds.
 */
function largeBatchArb(opsMax: number, opArb: fc.Arbitrary<unknown>, read: (i: number) => unknown): fc.Arbitrary<unknown[]> {
  return fc
    .tuple(fc.integer({ min: opsMax - 2, max: opsMax + 5 }), opArb)
    .map(([count, first]) => Array.from({ length: count }, (_, i) => (i === 0 ? first : read(i))));
}

/** Bodies of `POST /batch`: operation mixes of every size up to and over 1000 operations, and wrong shapes. */
function batchBodyArb(target: FuzzTarget): fc.Arbitrary<BodyCase> {
  const withOps = (ops: unknown[]): BodyCase => ({ ...json({ ops }), batchOps: ops.length <= BATCH_OPS_MAX ? ops.length : undefined });
  const wrongShapes = fc.constantFrom<unknown>({ ops: {} }, { ops: 'x' }, { ops: null }, [], { opz: [] }, null, { ops: [[]], extra: 1 }, 'ops');
  return fc.oneof(
    weighted(16, fc.array(batchOpArb(target), { maxLength: 12 }).map(withOps)),
    weighted(1, largeBatchArb(BATCH_OPS_MAX, batchOpArb(target), (i) => ({ op: 'get', key: `k${i % 8}` })).map(withOps)),
    weighted(3, wrongShapes.map(json)),
    weighted(3, junkBodyArb),
  );
}

/** The expiry of an internal set: valid ms since the epoch, and ones of the wrong sign, kind or size. */
const expiresAtArb: fc.Arbitrary<unknown> = fc.oneof(
  weighted(3, fc.integer({ min: 0, max: 4_000_000_000_000 })),
  weighted(1, fc.constantFrom(-1, 1.5, 2 ** 53, '1700000000000', null)),
);

const INVALID_INTERNAL_OPS: unknown[] = [
  ['s', 'k', 'v'], ['s', 'k', 'v', '0192f1a2b3c4-0000-proxy', 'extra'], ['d', 'k'], ['g'], ['g', 'k', 'x'], ['x', 'k'], [], 's',
  null, { op: 's' }, ['S', 'k'], [['g', 'k']], 0,
];

/** An operation of an internal batch, valid or not (exact element counts, versions, keys, values). */
function internalOpArb(target: FuzzTarget): fc.Arbitrary<unknown> {
  const key: fc.Arbitrary<unknown> = fc.oneof(
    weighted(8, validKeyArb),
    weighted(1, fc.constantFrom('', 'k'.repeat(KEY_BYTES_MAX + 1), 'a\udc00', 7, null)),
  );
  const value: fc.Arbitrary<unknown> = fc.oneof(
    weighted(8, validValueArb(Math.min(target.maxValueBytes, 64))),
    weighted(1, invalidValueArb(target.maxValueBytes)),
    weighted(1, fc.constantFrom(null, 1, ['v'])),
  );
  return fc.oneof(
    weighted(3, fc.tuple(key, value, versionArb).map(([k, v, version]) => ['s', k, v, version])),
    weighted(1, fc.tuple(key, value, versionArb, expiresAtArb).map(([k, v, version, at]) => ['s', k, v, version, at])),
    weighted(2, fc.tuple(key, versionArb).map(([k, version]) => ['d', k, version])),
    weighted(3, key.map((k) => ['g', k])),
    weighted(2, fc.oneof(fc.constantFrom(...INVALID_INTERNAL_OPS), fc.jsonValue({ maxDepth: 2 }))),
  );
}

/** Bodies of `POST /internal/batch`: arrays of operations up to and over 4000, and wrong shapes. */
function internalBatchBodyArb(target: FuzzTarget): fc.Arbitrary<BodyCase> {
  const withOps = (ops: unknown[]): BodyCase => ({ ...json({ ops }), batchOps: ops.length <= INTERNAL_BATCH_OPS_MAX ? ops.length : undefined });
  const wrongShapes = fc.constantFrom<unknown>({ ops: {} }, { ops: 'x' }, { ops: null }, [], { opz: [] }, null, { ops: [{ op: 'get', key: 'k' }] });
  return fc.oneof(
    weighted(8, fc.array(internalOpArb(target), { maxLength: 12 }).map(withOps)),
    weighted(1, largeBatchArb(INTERNAL_BATCH_OPS_MAX, internalOpArb(target), (i) => ['g', `k${i % 8}`]).map(withOps)),
    weighted(2, wrongShapes.map(json)),
    weighted(2, junkBodyArb),
  );
}

/** Bodies of `PUT /internal/kv/{key}`: `{"value", "version"}`, valid or not. */
function internalPutBodyArb(target: FuzzTarget): fc.Arbitrary<BodyCase> {
  const badValue = fc.oneof(invalidValueArb(target.maxValueBytes), fc.jsonValue({ maxDepth: 2 }));
  const overLimit = (n: number): string => `{"version":"0192f1a2b3c4-0000-proxy","value":"${'v'.repeat(target.singleBodyBytesMax + n)}"}`;
  return fc.oneof(
    weighted(5, fc.tuple(validValueArb(target.maxValueBytes), versionArb).map(([value, version]) => json({ value, version }))),
    weighted(2, fc.tuple(badValue, versionArb).map(([value, version]) => json({ value, version }))),
    weighted(1, fc.integer({ min: 1, max: 64 }).map((n) => text(overLimit(n)))),
    weighted(2, junkBodyArb),
  );
}

/** Any body at all (for routes that take none, or a body meant for another route). */
function anyBodyArb(target: FuzzTarget): fc.Arbitrary<BodyCase> {
  return fc.oneof(
    weighted(6, fc.constant({})),
    weighted(1, junkBodyArb),
    weighted(1, target.api === 'public' ? putBodyArb(target) : internalPutBodyArb(target)),
  );
}

// ---------------------------------------------------------------------------------------------------------------------
// Requests

interface RouteCase {
  method: string;
  path: string;
  body: BodyCase;
  /** The route's body limit, when the route reads a body. */
  bodyBytesMax?: number;
}

/** A single-key route: `prefix` + a key segment + a query, with a write body for PUT. */
function keyRouteArb(prefix: string, query: fc.Arbitrary<string>, putBody: fc.Arbitrary<BodyCase>, target: FuzzTarget): fc.Arbitrary<RouteCase> {
  return fc.tuple(routeMethodArb('GET', 'PUT', 'DELETE'), keySegmentArb, query).chain(([method, segment, q]) =>
    (method === 'PUT' ? putBody : anyBodyArb(target)).map(
      (body): RouteCase => ({ method, path: `${prefix}${segment}${q}`, body, bodyBytesMax: method === 'PUT' ? target.singleBodyBytesMax : undefined }),
    ),
  );
}

function publicRouteArb(target: FuzzTarget): fc.Arbitrary<RouteCase> {
  const kv = keyRouteArb('/kv/', queryArb(['version']), putBodyArb(target), target);
  const batchPath = fc.oneof(
    weighted(9, queryArb([]).map((query) => `/batch${query}`)),
    weighted(1, fc.constantFrom('/batch/', '/Batch', '/batch%3Fw=1', '/batch#x')),
  );
  const batch = fc
    .tuple(routeMethodArb('POST'), batchPath, batchBodyArb(target))
    .map(([method, path, body]): RouteCase => ({ method, path, body }));
  const otherPath = fc.oneof(fc.constantFrom(...OTHER_PUBLIC_PATHS), randomPathArb.chain((path) => queryArb([]).map((query) => path + query)));
  const other = fc.tuple(anyMethodArb, otherPath, anyBodyArb(target)).map(([method, path, body]): RouteCase => ({ method, path, body }));
  return fc.oneof(weighted(6, kv), weighted(3, batch), weighted(1, other));
}

function internalRouteArb(target: FuzzTarget): fc.Arbitrary<RouteCase> {
  const versionQuery = fc.oneof(
    weighted(2, fc.constant('')),
    weighted(4, versionArb.map((version) => `?version=${encodeURIComponent(typeof version === 'string' ? version : JSON.stringify(version))}`)),
    weighted(
      1,
      fc.constantFrom(
        '?version=0192f1a2b3c4-0000-proxy&version=0192f1a2b3c4-0001-proxy',
        '?version',
        '?version=',
        '?version[]=x',
        '?v=1',
        '?version=%zz',
      ),
    ),
  );
  const entry = keyRouteArb('/internal/kv/', versionQuery, internalPutBodyArb(target), target);
  const batch = fc
    .tuple(routeMethodArb('POST'), internalBatchBodyArb(target))
    .map(([method, body]): RouteCase => ({ method, path: '/internal/batch', body }));
  const otherPath = fc.oneof(fc.constantFrom(...OTHER_INTERNAL_PATHS), randomPathArb.map((path) => `/internal${path}`), randomPathArb);
  const other = fc.tuple(anyMethodArb, otherPath, anyBodyArb(target)).map(([method, path, body]): RouteCase => ({ method, path, body }));
  return fc.oneof(weighted(5, entry), weighted(4, batch), weighted(1, other));
}

/** A fuzzed request to `target` (the proxy's public API or a data node's internal API) with what the oracle needs. */
export function requestArb(target: FuzzTarget): fc.Arbitrary<GeneratedRequest> {
  return fc
    .record({
      route: target.api === 'public' ? publicRouteArb(target) : internalRouteArb(target),
      auth: authArb(target.token),
      contentType: contentTypeArb,
      requestId: requestIdArb,
      extra: extraHeadersArb,
      connection: connectionHeadersArb,
    })
    .map(({ route, auth, contentType, requestId, extra, connection }): GeneratedRequest => {
      const headers = [...auth, ...contentType, ...requestId, ...extra, ...connection.headers];
      const request = { method: route.method, path: route.path, headers, body: route.body.body, omitHost: connection.omitHost };
      // The request line, the headers Node's client adds (Host, Content-Length, Connection) and ": " and CRLF per line.
      const headerBytes = route.method.length + route.path.length + 64 + headers.reduce((sum, [name, value]) => sum + name.length + value.length + 4, 0);
      // Node's client sends methods in upper case ("get" goes out as GET); raw bytes send them as they are.
      const method = route.method.toUpperCase();
      const isBatch = method === 'POST' && (route.path === '/batch' || route.path.startsWith('/batch?') || route.path === '/internal/batch');
      return withSummary(
        {
          request,
          ...nodeRefusalOf(method, headers, headerBytes, connection.omitHost),
          bodyOverLimit: route.bodyBytesMax !== undefined && (route.body.body?.length ?? 0) > route.bodyBytesMax,
          authorized: isAuthorized(headers, target.token),
          batchOps: isBatch ? route.body.batchOps : undefined,
        },
        describeRequest,
      );
    });
}

/** Whether (and how surely) Node's HTTP layer refuses a request before any handler runs, and why. */
function nodeRefusalOf(method: string, headers: HeaderList, headerBytes: number, omitHost: boolean): { nodeRefusal?: string; nodeMustRefuse: boolean } {
  if (!http.METHODS.includes(method)) return { nodeRefusal: `the method ${method} is unknown to Node's parser`, nodeMustRefuse: true };
  // The estimate of the header bytes is within a few hundred bytes: near the limit either answer is right.
  const size = `about ${headerBytes} bytes of headers`;
  if (headerBytes > HEADER_BYTES_MAX + 1024) return { nodeRefusal: `${size}, over Node's ${HEADER_BYTES_MAX}`, nodeMustRefuse: true };
  if (headerBytes > HEADER_BYTES_SAFE) return { nodeRefusal: `${size}, near Node's ${HEADER_BYTES_MAX}`, nodeMustRefuse: false };
  if (omitHost) return { nodeRefusal: 'no Host header (required by HTTP/1.1; Node answers 400)', nodeMustRefuse: true };
  const expect = headers.find(([name]) => name === 'expect');
  if (expect !== undefined && expect[1].toLowerCase() !== '100-continue') {
    return { nodeRefusal: `Expect: ${expect[1]} (Node answers 417)`, nodeMustRefuse: true };
  }
  return { nodeMustRefuse: false };
}

// ---------------------------------------------------------------------------------------------------------------------
// Raw bytes

/** A raw exchange for `exchangeRaw`: bytes, how to write them, and what the server must at least answer. */
export interface RawCase {
  api: FuzzApi;
  bytes: Buffer;
  /** Set when every request in `bytes` is valid HTTP/1.1: the server must answer each of them. */
  responsesExpected?: number;
  splitAt: number[];
  pauseMs: number;
  /** A readable summary for failure messages. */
  description: string;
}

type Framing =
  | { kind: 'none' | 'cl-exact' | 'chunked' }
  | { kind: 'cl-larger'; extra: number }
  | { kind: 'cl-smaller'; missing: number; next: 'junk' | 'request' }
  | { kind: 'cl-invalid'; value: string }
  | { kind: 'cl-twice'; first: number; second: number }
  | { kind: 'te-and-cl' | 'chunked-unterminated' }
  | { kind: 'chunked-invalid'; variant: number }
  | { kind: 'te-other'; value: string };

const INVALID_LENGTHS = ['abc', '-1', '1e3', '0x10', '+5', '5 5', '99999999999999999999', '', '1.0', ' 12'];
const INVALID_CHUNKED_BODIES = [
  'zz\r\nab\r\n0\r\n\r\n', '5\r\nabc\r\n0\r\n\r\n', '3\r\nabcdef\r\n0\r\n\r\n', '-1\r\n\r\n', 'ffffffffffffffffff\r\nx\r\n',
  '3;ext=\u0001\r\nabc\r\n0\r\n\r\n', '3\nabc\n0\n\n',
];
const OTHER_TRANSFER_ENCODINGS = ['gzip', 'chunked, gzip', 'identity', 'gzip, chunked', 'chunked, chunked', 'Chunked', ' chunked'];

const framingArb: fc.Arbitrary<Framing> = fc.oneof(
  weighted(4, fc.constantFrom<Framing>({ kind: 'none' }, { kind: 'cl-exact' }, { kind: 'chunked' })),
  weighted(1, fc.integer({ min: 1, max: 5000 }).map((extra): Framing => ({ kind: 'cl-larger', extra }))),
  weighted(
    1,
    fc
      .tuple(fc.integer({ min: 1, max: 20 }), fc.constantFrom<'junk' | 'request'>('junk', 'request'))
      .map(([missing, next]): Framing => ({ kind: 'cl-smaller', missing, next })),
  ),
  weighted(1, fc.constantFrom(...INVALID_LENGTHS).map((value): Framing => ({ kind: 'cl-invalid', value }))),
  weighted(1, fc.tuple(fc.nat(30), fc.nat(30)).map(([first, second]): Framing => ({ kind: 'cl-twice', first, second }))),
  weighted(1, fc.constantFrom<Framing>({ kind: 'te-and-cl' }, { kind: 'chunked-unterminated' })),
  weighted(1, fc.nat(INVALID_CHUNKED_BODIES.length - 1).map((variant): Framing => ({ kind: 'chunked-invalid', variant }))),
  weighted(1, fc.constantFrom(...OTHER_TRANSFER_ENCODINGS).map((value): Framing => ({ kind: 'te-other', value }))),
);

const BAD_HEADER_LINES = [
  'X-Bad\r\n', 'X-Bad : y\r\n', 'X-Fold: a\r\n b\r\n', 'X-Nul: a\u0000b\r\n', 'X-Ctl: a\u0001b\r\n', 'X-Obs: \u00e9\u00ff\r\n',
  ': empty-name\r\n', 'X-Lf: a\n', 'X-Cr: a\rb\r\n', 'Host: second.example\r\n', `X-Huge: ${'h'.repeat(HEADER_BYTES_MAX + 100)}\r\n`,
];
const BAD_REQUEST_LINE_METHODS = ['GET', 'PUT', 'POST', 'CONNECT', 'G@T', 'PRI', ''];
const BAD_TARGETS = ['*', 'http://x/kv/a', 'x:80', '/kv/a b', '/kv/\u00e9', '/kv/a\u0000', '', '/kv/%', '/health\u0007', 'kv/a', '/kv/a\tb'];
const OTHER_VERSIONS = ['HTTP/1.0', 'HTTP/2.0', 'HTTP/1.2', 'HTTP/0.9', 'http/1.1', 'HTTP/1.1 ', '', 'HTTP/1.10'];

/** One message of a raw byte stream, and whether it is valid HTTP/1.1 and complete. */
interface RawMessage {
  bytes: Buffer;
  valid: boolean;
  summary: string;
}

interface RequestLine {
  method: string;
  path: string;
  body?: Buffer;
  headers: HeaderList;
  /** Valid HTTP/1.1 as far as the line and headers go (framing decides the rest). */
  valid: boolean;
}

function rawMessageArb(target: FuzzTarget): fc.Arbitrary<RawMessage> {
  const fromRequest = requestArb(target).map(({ request, nodeRefusal, bodyOverLimit }): RequestLine => {
    // No HEAD: its answers have a length but no body, which the raw response parser does not track.
    const method = request.method === 'HEAD' ? 'GET' : request.method;
    const valid = nodeRefusal === undefined && !bodyOverLimit && method === method.toUpperCase();
    return { method, path: request.path, body: request.body, headers: request.headers, valid };
  });
  const broken = fc
    .tuple(fc.constantFrom(...BAD_REQUEST_LINE_METHODS), fc.constantFrom(...BAD_TARGETS))
    .map(([method, path]): RequestLine => ({ method, path, headers: [], valid: false }));
  return fc
    .record({
      line: fc.oneof(weighted(8, fromRequest), weighted(1, broken)),
      version: fc.oneof(weighted(12, fc.constant('HTTP/1.1')), weighted(1, fc.constantFrom(...OTHER_VERSIONS))),
      host: fc.oneof(weighted(12, fc.constant(true)), weighted(1, fc.constant(false))),
      framing: framingArb,
      headerMutation: fc.oneof(weighted(10, fc.constant('')), weighted(1, fc.constantFrom(...BAD_HEADER_LINES))),
      lineEnd: fc.oneof(weighted(12, fc.constant('\r\n')), weighted(1, fc.constant('\n'))),
    })
    .map(({ line, version, host, framing, headerMutation, lineEnd }): RawMessage => {
      const body = line.body ?? Buffer.alloc(0);
      const framingHeaders = ['host', 'content-length', 'transfer-encoding', 'connection', 'expect'];
      const headers = line.headers.filter(([name]) => !framingHeaders.includes(name.toLowerCase()));
      if (host) headers.unshift(['Host', '127.0.0.1']);
      const framed = frame(body, framing);
      headers.push(...framed.headers);
      const valid = line.valid && framed.valid && version === 'HTTP/1.1' && host && headerMutation === '' && lineEnd === '\r\n';
      const head =
        `${line.method} ${line.path} ${version}`.trimEnd() +
        lineEnd +
        headers.map(([name, value]) => `${name}: ${value}${lineEnd}`).join('') +
        headerMutation +
        lineEnd;
      const notes = `${framing.kind}${headerMutation === '' ? '' : ', bad header'}${host ? '' : ', no Host'}`;
      return {
        bytes: Buffer.concat([Buffer.from(head, 'latin1'), framed.payload]),
        valid,
        summary: `${line.method} ${line.path.slice(0, 80)} ${version} [${notes}] body ${body.length} B`,
      };
    });
}

/** The framing headers and payload of `body`, and whether the result is valid HTTP/1.1. */
function frame(body: Buffer, framing: Framing): { headers: HeaderList; payload: Buffer; valid: boolean } {
  switch (framing.kind) {
    case 'none':
      return { headers: [], payload: Buffer.alloc(0), valid: true };
    case 'cl-exact':
      return { headers: [['Content-Length', String(body.length)]], payload: body, valid: true };
    case 'chunked':
      return { headers: [['Transfer-Encoding', 'chunked']], payload: chunked(body), valid: true };
    case 'cl-larger':
      return { headers: [['Content-Length', String(body.length + framing.extra)]], payload: body, valid: false };
    case 'cl-smaller': {
      const next = framing.next === 'junk' ? 'junk after the body\r\n\r\n' : 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n';
      const declared = Math.max(0, body.length - framing.missing);
      return { headers: [['Content-Length', String(declared)]], payload: Buffer.concat([body, Buffer.from(next)]), valid: false };
    }
    case 'cl-invalid':
      return { headers: [['Content-Length', framing.value]], payload: body, valid: false };
    case 'cl-twice':
      return { headers: [['Content-Length', String(framing.first)], ['Content-Length', String(framing.second)]], payload: body, valid: false };
    case 'te-and-cl':
      return { headers: [['Content-Length', String(body.length)], ['Transfer-Encoding', 'chunked']], payload: chunked(body), valid: false };
    case 'chunked-unterminated':
      return { headers: [['Transfer-Encoding', 'chunked']], payload: chunked(body).subarray(0, -5), valid: false };
    case 'chunked-invalid':
      return { headers: [['Transfer-Encoding', 'chunked']], payload: Buffer.from(INVALID_CHUNKED_BODIES[framing.variant]), valid: false };
    case 'te-other':
      return { headers: [['Transfer-Encoding', framing.value]], payload: chunked(body), valid: false };
  }
}

/** `body` in two chunks and the terminating one. */
function chunked(body: Buffer): Buffer {
  const half = Math.ceil(body.length / 2);
  const parts = [body.subarray(0, half), body.subarray(half)].filter((part) => part.length > 0);
  const chunks = parts.flatMap((part) => [Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]);
  return Buffer.concat([...chunks, Buffer.from('0\r\n\r\n')]);
}

/**
 * A raw byte stream to `target`: one to three requests, pipelined, each valid or broken in its framing (lying or
 * repeated `Content-Length`, `Transfer-Encoding` with `Content-Length`, bad chunks), its request line or its headers;
 * written at once or in pieces.
 */
export function rawCaseArb(target: FuzzTarget): fc.Arbitrary<RawCase> {
  return fc
    .record({
      messages: fc.array(rawMessageArb(target), { minLength: 1, maxLength: 3 }),
      splits: fc.array(fc.nat(4000), { maxLength: 4 }),
      pauseMs: fc.constantFrom(0, 0, 1, 5),
    })
    .map(({ messages, splits, pauseMs }): RawCase =>
      withSummary(
        {
          api: target.api,
          bytes: Buffer.concat(messages.map((message) => message.bytes)),
          responsesExpected: messages.every((message) => message.valid) ? messages.length : undefined,
          splitAt: splits,
          pauseMs,
          description: messages.map((message) => message.summary).join(' | '),
        },
        (rawCase) => {
          const bytes = JSON.stringify(shorten(rawCase.bytes.toString('latin1'), 300));
          return `${rawCase.api}: ${rawCase.description}; ${rawCase.bytes.length} bytes ${bytes}`;
        },
      ),
    );
}
