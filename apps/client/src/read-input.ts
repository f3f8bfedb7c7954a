import { createReadStream } from 'node:fs';
import { UsageError } from './usage-error';

/**
 * Reads a stream to its end as UTF-8, exactly: nothing is trimmed (a trailing newline stays part of the text) and a byte
 * order mark is kept.
 * @param what names the input in messages (`standard input`, a file name).
 * @param bytesMax the most bytes accepted: input is held in memory whole.
 * @throws UsageError when the input is over `bytesMax` bytes or is not valid UTF-8; the stream's error (e.g. `ENOENT`)
 * as a UsageError naming the input.
 */
export async function readUtf8(stream: NodeJS.ReadableStream, what: string, bytesMax: number): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  try {
    for await (const chunk of stream) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer);
      bytes += buffer.length;
      if (bytes > bytesMax) throw new UsageError(`${what} is over ${bytesMax} bytes`);
      chunks.push(buffer);
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read ${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  try {
    // fatal: a value must read back exactly as given, so bytes that are not UTF-8 are refused rather than replaced.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(Buffer.concat(chunks, bytes));
  } catch (err) {
    throw new UsageError(`${what} is not valid UTF-8`, { cause: err });
  }
}

/**
 * Reads a file, or standard input when `path` is `-`, as UTF-8 (see {@link readUtf8}).
 * @throws UsageError as {@link readUtf8}, also when the file cannot be opened.
 */
export async function readFileOrStdin(path: string, stdin: NodeJS.ReadableStream, bytesMax: number): Promise<string> {
  if (path === '-') return readUtf8(stdin, 'standard input', bytesMax);
  const stream = createReadStream(path);
  try {
    return await readUtf8(stream, path, bytesMax);
  } finally {
    stream.destroy();
  }
}
