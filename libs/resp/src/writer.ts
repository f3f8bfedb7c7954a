import type { Reply } from './reply';

/** A RESP protocol version: 2 (the default of every connection) or 3 (after `HELLO 3`). */
export type ProtocolVersion = 2 | 3;

const CRLF = Buffer.from('\r\n');
const NULL2 = Buffer.from('$-1\r\n');
const NULL3 = Buffer.from('_\r\n');
const OK = Buffer.from('+OK\r\n');
const LINE_BREAKS = /[\r\n]/g;

/**
 * Encodes a reply for a connection speaking `protocol`. On RESP2 the RESP3 types become what Redis sends a RESP2
 * client: a null is the nil bulk string (`$-1`), a map a flat array of keys and values, a set an array, a double a
 * bulk string of its decimal form, a boolean the integer 1 or 0, a verbatim string a bulk string.
 *
 * Simple strings and errors cannot hold a line break: any is replaced by a space, so a message never breaks the
 * framing. Integers must be safe integers.
 * @throws TypeError on an integer that is not a safe integer.
 */
export function encodeReply(value: Reply, protocol: ProtocolVersion): Buffer {
  if (value.type === 'simple' && value.value === 'OK') return OK;
  if (value.type === 'null') return protocol === 3 ? NULL3 : NULL2;
  const parts: Buffer[] = [];
  write(value, protocol, parts);
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

function line(prefix: string, text: string): Buffer {
  return Buffer.from(`${prefix}${text}\r\n`, 'utf8');
}

function header(prefix: string, n: number): Buffer {
  return Buffer.from(`${prefix}${n}\r\n`, 'latin1');
}

function write(value: Reply, protocol: ProtocolVersion, parts: Buffer[]): void {
  switch (value.type) {
    case 'simple':
      parts.push(line('+', value.value.replace(LINE_BREAKS, ' ')));
      return;
    case 'error':
      parts.push(line('-', value.message.replace(LINE_BREAKS, ' ')));
      return;
    case 'integer':
      if (!Number.isSafeInteger(value.value)) throw new TypeError(`a RESP integer must be a safe integer, got ${value.value}`);
      parts.push(header(':', value.value));
      return;
    case 'bulk': {
      const bytes = typeof value.value === 'string' ? Buffer.from(value.value, 'utf8') : Buffer.from(value.value.buffer, value.value.byteOffset, value.value.byteLength);
      parts.push(header('$', bytes.length), bytes, CRLF);
      return;
    }
    case 'null':
      parts.push(protocol === 3 ? NULL3 : NULL2);
      return;
    case 'array':
      parts.push(header('*', value.value.length));
      for (const item of value.value) write(item, protocol, parts);
      return;
    case 'set':
      parts.push(header(protocol === 3 ? '~' : '*', value.value.length));
      for (const item of value.value) write(item, protocol, parts);
      return;
    case 'map':
      parts.push(protocol === 3 ? header('%', value.value.length) : header('*', 2 * value.value.length));
      for (const [k, v] of value.value) {
        write(k, protocol, parts);
        write(v, protocol, parts);
      }
      return;
    case 'double': {
      const text = formatDouble(value.value);
      if (protocol === 3) parts.push(line(',', text));
      else write({ type: 'bulk', value: text }, protocol, parts);
      return;
    }
    case 'boolean':
      parts.push(protocol === 3 ? line('#', value.value ? 't' : 'f') : header(':', value.value ? 1 : 0));
      return;
    case 'verbatim':
      if (protocol === 3) {
        const bytes = Buffer.from(`${value.format.padEnd(3).slice(0, 3)}:${value.value}`, 'utf8');
        parts.push(header('=', bytes.length), bytes, CRLF);
      } else {
        write({ type: 'bulk', value: value.value }, protocol, parts);
      }
      return;
  }
}

/** A double as RESP3 writes it: `inf`, `-inf`, `nan`, or the shortest decimal form (`-0` keeps its sign, as Redis writes it). */
function formatDouble(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  if (Object.is(n, -0)) return '-0';
  return String(n);
}
