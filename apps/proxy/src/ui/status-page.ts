import { readFileSync } from 'node:fs';

/**
 * The status page's HTML, read from `file` (the build writes it beside the proxy's bundle, `ui/index.html`) on first
 * use and kept; undefined when the file is not there (a build without the page, or the proxy run from its sources).
 */
export function readStatusPage(file: string): () => string | undefined {
  let page: string | undefined;
  let read = false;
  return () => {
    if (!read) {
      try {
        page = readFileSync(file, 'utf8');
      } catch {
        page = undefined;
      }
      read = true;
    }
    return page;
  };
}

/** The keys and tombstones a data node's health or status answer reports (tombstones only where the node counts them). */
export function countsOf(answer: { keys?: unknown; tombstones?: unknown }): { keys?: number; tombstones?: number } {
  return {
    ...(typeof answer.keys === 'number' ? { keys: answer.keys } : {}),
    ...(typeof answer.tombstones === 'number' ? { tombstones: answer.tombstones } : {}),
  };
}
