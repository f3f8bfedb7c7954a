import { createHash } from 'node:crypto';
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

/**
 * The `Content-Security-Policy` of a page whose script and styles are inline: each inline `<script>` and `<style>`
 * allowed by its SHA-256 (so no other script could run, even one injected), requests to this proxy only, no frames.
 */
export function pagePolicy(page: string): string {
  const hashes = (tag: string): string =>
    [...page.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'gi'))].map((match) => `'sha256-${createHash('sha256').update(match[1], 'utf8').digest('base64')}'`).join(' ');
  const scripts = hashes('script');
  const styles = hashes('style');
  return [
    "default-src 'none'",
    `script-src ${scripts === '' ? "'none'" : scripts}`,
    `style-src ${styles === '' ? "'none'" : styles}`,
    'img-src data:',
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
