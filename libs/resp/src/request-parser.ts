import type { RespLimits } from './limits';

/** One request read from a connection: a command's arguments (the name first), binary as received. */
export interface ParsedCommand {
  readonly kind: 'command';
  readonly args: Buffer[];
}

/**
 * Input that breaks the protocol: the connection cannot be resynchronised, so the server answers
 * `-ERR Protocol error: ...` (Redis's wording, in `message`) and closes it, as Redis does.
 */
export interface ProtocolViolation {
  readonly kind: 'protocol-error';
  readonly message: string;
}

/** What {@link RequestParser.next} returns once a request is complete. */
export type ParsedRequest = ParsedCommand | ProtocolViolation;

/** Longest `*<count>` or `$<length>` line, in bytes: a 64-bit count has 20 digits. */
const HEADER_LINE_BYTES_MAX = 32;
const CR = 13;
const LF = 10;
const STAR = 42;
const DOLLAR = 36;
const EMPTY = Buffer.alloc(0);

/**
 * The request side of RESP, as a Redis server reads it: multibulk commands (`*<n>\r\n` then `n` bulk strings
 * `$<len>\r\n<bytes>\r\n`, what every client library sends) and inline commands (a line of words, as typed in telnet,
 * with Redis's quoting rules). Bytes are pushed as they arrive; {@link RequestParser.next} returns one complete request
 * at a time, so the caller decides how many to run before reading on (pipelining with a bound).
 *
 * Bounds, checked before anything is buffered for them: a multibulk count over `argsMax`, a bulk length over
 * `argBytesMax`, a command over `commandBytesMax` bytes and an inline line over `inlineBytesMax` are protocol errors.
 * Arguments are views of the received chunks (no copy); they stay valid as long as the caller keeps them.
 *
 * Not thread-safe (nothing here is): one parser per connection. After a protocol error the parser is spent.
 */
export class RequestParser {
  private readonly limits: Pick<RespLimits, 'argBytesMax' | 'commandBytesMax' | 'argsMax' | 'inlineBytesMax'>;
  /** The working buffer and the read position in it. */
  private buf: Buffer = EMPTY;
  private pos = 0;
  /** Chunks received and not yet merged into `buf`. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes that must be available before parsing can progress (a bulk string's body and CRLF). */
  private need = 1;
  /** The multibulk being read: expected count (-1 between commands), arguments so far, length of the next bulk. */
  private argc = -1;
  private args: Buffer[] = [];
  private bulkLength = -1;
  private commandBytes = 0;
  private failed: ProtocolViolation | undefined;

  constructor(limits: Pick<RespLimits, 'argBytesMax' | 'commandBytesMax' | 'argsMax' | 'inlineBytesMax'>) {
    this.limits = limits;
  }

  /** Bytes received and not yet returned as part of a request. */
  get bufferedBytes(): number {
    return this.buf.length - this.pos + this.pendingBytes;
  }

  /** True when no request is partly received. */
  get idle(): boolean {
    return this.argc < 0 && this.bufferedBytes === 0;
  }

  /** Adds received bytes. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.pos === this.buf.length && this.pendingBytes === 0) {
      this.buf = chunk;
      this.pos = 0;
    } else {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
    }
  }

  /**
   * The next complete request, or `undefined` when more bytes are needed. Empty commands (`*0`, a blank line) are
   * skipped, as Redis skips them. After a {@link ProtocolViolation} every call returns it again.
   */
  next(): ParsedRequest | undefined {
    if (this.failed !== undefined) return this.failed;
    for (;;) {
      if (this.bufferedBytes < this.need) return undefined;
      if (this.argc < 0) {
        this.ensure(1);
        if (this.buf[this.pos] !== STAR) {
          const inline = this.readInline();
          if (inline === undefined || inline.kind === 'protocol-error') return inline;
          if (inline.args.length === 0) continue;
          return inline;
        }
        const count = this.readHeader('*', 'multibulk', 'mbulk');
        if (count === undefined) return undefined;
        if (typeof count !== 'number') return count;
        if (count > this.limits.argsMax) {
          return this.fail(`invalid multibulk length (a command has at most ${this.limits.argsMax} arguments)`);
        }
        if (count <= 0) continue;
        this.argc = count;
        this.args = [];
      }
      while (this.args.length < this.argc) {
        if (this.bulkLength < 0) {
          if (this.bufferedBytes === 0) {
            this.need = 1;
            return undefined;
          }
          this.ensure(1);
          if (this.buf[this.pos] !== DOLLAR) {
            return this.fail(`expected '$', got '${String.fromCharCode(this.buf[this.pos])}'`);
          }
          const length = this.readHeader('$', 'bulk', 'bulk');
          if (length === undefined) return undefined;
          if (typeof length !== 'number') return length;
          if (length < 0 || length > this.limits.argBytesMax) {
            return this.fail(`invalid bulk length (an argument has at most ${this.limits.argBytesMax} bytes)`);
          }
          if (this.commandBytes + length + 2 > this.limits.commandBytesMax) {
            return this.fail(`invalid bulk length (a command has at most ${this.limits.commandBytesMax} bytes)`);
          }
          this.bulkLength = length;
          this.need = length + 2;
        }
        const length = this.bulkLength;
        if (this.bufferedBytes < length + 2) return undefined;
        this.ensure(length + 2);
        if (this.buf[this.pos + length] !== CR || this.buf[this.pos + length + 1] !== LF) {
          return this.fail('bulk string not terminated by CRLF');
        }
        this.args.push(this.buf.subarray(this.pos, this.pos + length));
        this.consume(length + 2);
        this.commandBytes += length + 2;
        this.bulkLength = -1;
        this.need = 1;
      }
      const args = this.args;
      this.argc = -1;
      this.args = [];
      this.commandBytes = 0;
      return { kind: 'command', args };
    }
  }

  /** Reads a `*<n>` or `$<n>` line: the number, a violation, or undefined when the line is not complete yet. */
  private readHeader(prefix: string, what: string, short: string): number | ProtocolViolation | undefined {
    const end = this.findLineEnd(HEADER_LINE_BYTES_MAX + 2, true);
    if (end === undefined) {
      if (this.bufferedBytes > HEADER_LINE_BYTES_MAX + 2) return this.fail(`too big ${short} count string`);
      this.need = this.bufferedBytes + 1;
      return undefined;
    }
    const text = this.buf.toString('latin1', this.pos + 1, end);
    if (!/^-?\d{1,19}$/.test(text)) return this.fail(`invalid ${what} length`);
    const n = Number(text);
    if (!Number.isSafeInteger(n)) return this.fail(`invalid ${what} length`);
    this.consume(end + 2 - this.pos);
    this.commandBytes += prefix.length + text.length + 2;
    this.need = 1;
    return n;
  }

  /** Reads an inline command (a line ending in LF, CR optional). */
  private readInline(): ParsedCommand | ProtocolViolation | undefined {
    const end = this.findLineEnd(this.limits.inlineBytesMax + 2, false);
    if (end === undefined) {
      if (this.bufferedBytes > this.limits.inlineBytesMax) return this.fail('too big inline request');
      this.need = this.bufferedBytes + 1;
      return undefined;
    }
    let stop = end;
    if (stop > this.pos && this.buf[stop - 1] === CR) stop--;
    const line = this.buf.subarray(this.pos, stop);
    this.consume(end + 1 - this.pos);
    this.need = 1;
    const args = splitInlineArgs(line);
    if (args === undefined) return this.fail('unbalanced quotes in request');
    return { kind: 'command', args };
  }

  /**
   * Index in `buf` of the end of the line starting at `pos`: of its CR (before an LF) when `crlf`, else of its LF.
   * Looks at most `window` bytes ahead; undefined when no line end is there yet.
   */
  private findLineEnd(window: number, crlf: boolean): number | undefined {
    this.ensure(Math.min(window, this.bufferedBytes));
    const limit = Math.min(this.buf.length, this.pos + window);
    if (crlf) {
      for (let i = this.buf.indexOf(CR, this.pos); i >= 0 && i + 1 < limit; i = this.buf.indexOf(CR, i + 1)) {
        if (this.buf[i + 1] === LF) return i;
      }
      return undefined;
    }
    const i = this.buf.indexOf(LF, this.pos);
    return i >= 0 && i < limit ? i : undefined;
  }

  /** Makes `buf` hold at least `n` bytes from `pos`, merging pending chunks when it does not. */
  private ensure(n: number): void {
    if (this.buf.length - this.pos >= n || this.pendingBytes === 0) return;
    const rest = this.buf.subarray(this.pos);
    this.buf = Buffer.concat([rest, ...this.pending], rest.length + this.pendingBytes);
    this.pos = 0;
    this.pending = [];
    this.pendingBytes = 0;
  }

  private consume(n: number): void {
    this.pos += n;
    if (this.pos === this.buf.length && this.pendingBytes === 0) {
      this.buf = EMPTY;
      this.pos = 0;
    }
  }

  private fail(reason: string): ProtocolViolation {
    this.failed = { kind: 'protocol-error', message: `Protocol error: ${reason}` };
    this.buf = EMPTY;
    this.pos = 0;
    this.pending = [];
    this.pendingBytes = 0;
    return this.failed;
  }
}

const SPACE = /[ \t\n\r\v\f]/;

/**
 * Splits an inline command into arguments with Redis's rules (`sdssplitargs`): words separated by blanks; `"..."`
 * with the escapes `\xHH`, `\n`, `\r`, `\t`, `\b`, `\a`, `\\`, `\"`; `'...'` with `\'`. A closing quote must be
 * followed by a blank or the end. Returns undefined for unbalanced quotes.
 */
export function splitInlineArgs(line: Buffer): Buffer[] | undefined {
  const text = line.toString('latin1');
  const args: Buffer[] = [];
  let i = 0;
  const n = text.length;
  for (;;) {
    while (i < n && SPACE.test(text[i])) i++;
    if (i >= n) return args;
    let current = '';
    let inDouble = false;
    let inSingle = false;
    for (;;) {
      if (inDouble) {
        if (i >= n) return undefined;
        const c = text[i];
        if (c === '\\' && text[i + 1] === 'x' && isHex(text[i + 2]) && isHex(text[i + 3])) {
          current += String.fromCharCode(parseInt(text.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (c === '\\' && i + 1 < n) {
          i++;
          const e = text[i];
          current += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e === 'b' ? '\b' : e === 'a' ? '\x07' : e;
        } else if (c === '"') {
          if (i + 1 < n && !SPACE.test(text[i + 1])) return undefined;
          inDouble = false;
          i++;
          break;
        } else {
          current += c;
        }
      } else if (inSingle) {
        if (i >= n) return undefined;
        const c = text[i];
        if (c === '\\' && text[i + 1] === "'") {
          i++;
          current += "'";
        } else if (c === "'") {
          if (i + 1 < n && !SPACE.test(text[i + 1])) return undefined;
          inSingle = false;
          i++;
          break;
        } else {
          current += c;
        }
      } else {
        if (i >= n) break;
        const c = text[i];
        if (SPACE.test(c)) break;
        if (c === '"') inDouble = true;
        else if (c === "'") inSingle = true;
        else current += c;
      }
      i++;
    }
    args.push(Buffer.from(current, 'latin1'));
  }
}

function isHex(c: string | undefined): boolean {
  return c !== undefined && /^[0-9a-fA-F]$/.test(c);
}
