// Fails when a file of the repository mentions a Markdown file that the repository does not have: the check behind
// `npm run check:docs`, so that documentation and comments never point at a page that moved, was renamed, or lives
// outside the repository.
//
// Usage: node scripts/check-doc-links.mjs [--root DIR]   (default: the repository this script is in)
//
// It reads the tracked files (`git ls-files`; without git or outside a work tree, every file but those in
// node_modules, dist and other generated folders) that are Markdown, code, scripts or configuration (.md, .ts, .mjs, .js,
// .cjs, .sh, .json, .yml, .yaml, Dockerfiles, and extensionless scripts with a #! line), and finds in them:
//  - Markdown links and reference definitions whose target is a .md file: [text](docs/cli.md#exit-codes),
//    [text]: ../docs/errors.md; in a Markdown file also links to its own headings: [text](#limits);
//  - plain mentions of a .md path, as comments and prose name them: docs/formats/wal.md, libs/ring/README.md,
//    docs/operations.md#logs.
// A mention resolves when the file exists relative to the mentioning file or to the repository root, inside the
// repository. An anchor (#...) must match a heading of the target, slugged as GitHub does (lower case, punctuation
// dropped, spaces to hyphens, -1, -2, ... for repeats), or an explicit id/name attribute.
// Ignored: URLs (scheme://...), package names (@scope/name), node_modules/ and dist/, globs (*.md), any line that
// contains the marker `check-doc-links: ignore`, and a file whose first five lines contain `check-doc-links:
// ignore-file` (the tests of this script, whose fixtures are dangling on purpose).
//
// Prints one line per dangling reference, `file:line: problem`, and exits 1 if there is any; otherwise one summary
// line and exit 0. Exit 2 on bad usage.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** File names (last path segment) of the tracked files that are scanned. */
const SCANNED = /(\.(md|ts|mts|cts|mjs|js|cjs|sh|json|ya?ml)|(^|\.)Dockerfile|^Dockerfile\..+)$/;
/** Tracked files larger than this are not read: generated data, not prose. Why 2 MiB: the lock file is well below. */
const FILE_BYTES_MAX = 2 * 1024 * 1024;
const IGNORE_MARK = 'check-doc-links: ignore';
/** A file is skipped when this appears in its first FILE_MARK_LINES lines. */
const IGNORE_FILE_MARK = `${IGNORE_MARK}-file`;
const FILE_MARK_LINES = 5;

/** A URL with a scheme, removed before looking for paths so that its path parts are not taken for files. */
const URL_PATTERN = /\b[a-z][a-z0-9+.-]*:\/\/[^\s)>\]"'`]*/gi;
/** Markdown inline links and images: [text](target "title"); the target may be wrapped in <...>. */
const INLINE_LINK = /!?\[(?:[^\]\\]|\\.)*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g;
/** Markdown reference definitions: [label]: target */
const REFERENCE_DEFINITION = /^\s{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/;
/** A plain mention of a .md path, with an optional anchor. */
const PLAIN_MENTION = /(?<![\w@$%*{}<>.~\\/-])(\/?(?:\.{1,2}\/)*[\w-][\w.-]*(?:\/[\w-][\w.-]*)*\.md)(#[\w-]*)?(?![\w/-])/gu;

/**
 * The anchor GitHub gives a heading: its text lower-cased, with everything but letters, digits, marks, spaces,
 * hyphens and underscores dropped, and spaces turned into hyphens.
 * @param {string} text  the heading's text as rendered (no Markdown markup)
 */
export function githubSlug(text) {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** A heading's text as GitHub renders it: code spans kept literally; links, HTML tags and emphasis reduced to text. */
function headingText(raw) {
  const withoutClosingHashes = raw.replace(/\s+#+\s*$/, '');
  // Odd parts are the insides of code spans (`<key>` there is text, not an HTML tag).
  return withoutClosingHashes
    .split(/`+/)
    .map((part, i) => (i % 2 === 1 ? part : inlineText(part)))
    .join('')
    .trim();
}

function inlineText(markdown) {
  return markdown
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
    .replace(/<[^>]+>/g, '') // HTML tags
    .replace(/(\*\*|__|\*|~~)(?=\S)([^]*?\S)\1/g, '$2') // emphasis
    .replace(/(^|\W)_(?=\S)([^]*?\S)_(?=\W|$)/g, '$1$2')
    .replace(/\\(.)/g, '$1'); // escapes
}

/**
 * The anchors of a Markdown text: one per heading (ATX `#` headings and setext headings, not inside fenced code),
 * with GitHub's -1, -2, ... suffixes for repeated slugs, plus every explicit `id="..."` or `name="..."`.
 * @param {string} markdown
 * @returns {Set<string>}
 */
export function anchorsOf(markdown) {
  const anchors = new Set();
  const counts = new Map();
  const add = (slug) => {
    const seen = counts.get(slug) ?? 0;
    counts.set(slug, seen + 1);
    anchors.add(seen === 0 ? slug : `${slug}-${seen}`);
  };
  const lines = markdown.split(/\r?\n/);
  let fence;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fenceMatch = /^\s{0,3}(`{3,}|~{3,})/.exec(line);
    if (fenceMatch) {
      if (fence === undefined) fence = fenceMatch[1][0];
      else if (fenceMatch[1][0] === fence) fence = undefined;
      continue;
    }
    if (fence !== undefined) continue;
    for (const match of line.matchAll(/\b(?:id|name)\s*=\s*["']([^"']+)["']/g)) anchors.add(match[1]);
    const atx = /^\s{0,3}#{1,6}\s+(.*)$/.exec(line);
    if (atx) {
      add(githubSlug(headingText(atx[1])));
      continue;
    }
    const next = lines[i + 1];
    if (next !== undefined && /^\s{0,3}(=+|-+)\s*$/.test(next) && /\S/.test(line) && !/^\s{0,3}([-*+>|]|\d+[.)])\s/.test(line)) {
      add(githubSlug(headingText(line)));
      i++;
    }
  }
  return anchors;
}

/**
 * The .md mentions of one line, as [target, anchor] pairs (anchor without '#', or undefined).
 * @param {string} line
 * @param {boolean} markdown  whether the line is from a Markdown file (then links to its own headings count too)
 */
export function mentionsOf(line, markdown) {
  if (line.includes(IGNORE_MARK)) return [];
  const found = new Map();
  const note = (target, anchor) => {
    const key = `${target}#${anchor ?? ''}`;
    if (!found.has(key)) found.set(key, [target, anchor]);
  };
  const withoutUrls = line.replace(URL_PATTERN, (url) => ' '.repeat(url.length));
  const linkTargets = [];
  for (const match of withoutUrls.matchAll(INLINE_LINK)) linkTargets.push(match[1]);
  const definition = REFERENCE_DEFINITION.exec(withoutUrls);
  if (definition) linkTargets.push(definition[1]);
  // What a link points at is its target: its text ([errors.md](../docs/errors.md)) is not a mention of its own.
  const prose = withoutUrls.replace(INLINE_LINK, (link) => ' '.repeat(link.length)).replace(REFERENCE_DEFINITION, (d) => ' '.repeat(d.length));
  for (let target of linkTargets) {
    target = target.replace(/^<|>$/g, '');
    const hash = target.indexOf('#');
    const file = hash < 0 ? target : target.slice(0, hash);
    const anchor = hash < 0 ? undefined : target.slice(hash + 1);
    if (file === '' && markdown && anchor !== undefined && anchor !== '') note('', anchor);
    else if (/\.md$/i.test(file.replace(/\?.*$/, ''))) note(decodeLinkPath(file.replace(/\?.*$/, '')), anchor || undefined);
  }
  for (const match of prose.matchAll(PLAIN_MENTION)) {
    const anchor = match[2] === undefined || match[2] === '#' ? undefined : match[2].slice(1);
    note(match[1], anchor);
  }
  return [...found.values()].filter(([target]) => !ignoredTarget(target));
}

function decodeLinkPath(target) {
  try {
    return decodeURI(target);
  } catch {
    return target;
  }
}

function ignoredTarget(target) {
  if (target.startsWith('@')) return true; // a package name
  const segments = target.split('/');
  return segments.includes('node_modules') || segments[0] === 'dist' || target.includes('*');
}

/**
 * Checks every tracked text file of a repository.
 * @param {string} root  the repository's work tree
 * @param {readonly string[]} files  paths relative to root
 * @returns {{ problems: string[], mentions: number, files: number }}
 */
export function checkDocLinks(root, files) {
  const tracked = new Set(files);
  const anchorCache = new Map();
  const anchorsOfFile = (relative) => {
    if (!anchorCache.has(relative)) anchorCache.set(relative, anchorsOf(fs.readFileSync(path.join(root, relative), 'utf8')));
    return anchorCache.get(relative);
  };
  const problems = [];
  let mentions = 0;
  let scanned = 0;
  for (const file of files) {
    if (!isScanned(root, file)) continue;
    const text = readText(path.join(root, file));
    if (text === undefined) continue;
    const lines = text.split(/\r?\n/);
    if (lines.slice(0, FILE_MARK_LINES).some((line) => line.includes(IGNORE_FILE_MARK))) continue;
    scanned++;
    const isMarkdown = /\.md$/i.test(file);
    for (let i = 0; i < lines.length; i++) {
      for (const [target, anchor] of mentionsOf(lines[i], isMarkdown)) {
        mentions++;
        const where = `${file}:${i + 1}`;
        const shown = anchor === undefined ? target : `${target}#${anchor}`;
        const resolved = target === '' ? file : resolveMention(root, file, target, tracked);
        if (resolved === undefined) {
          const outside = basesOf(file, target)
            .map((base) => path.posix.normalize(path.posix.join(base, target)))
            .every((candidate) => candidate.startsWith('../'));
          problems.push(`${where}: ${shown}: no such file in the repository${outside ? ' (it points outside the repository)' : ''}`);
          continue;
        }
        if (anchor !== undefined && !anchorsOfFile(resolved).has(anchor)) {
          problems.push(`${where}: ${shown}: ${resolved} has no heading with the anchor #${anchor}`);
        }
      }
    }
  }
  return { problems, mentions, files: scanned };
}

/** The repository-relative path a mention resolves to: next to the mentioning file first, then from the root. */
function resolveMention(root, file, target, tracked) {
  // A path starting with / is taken from the repository root, as GitHub renders links.
  if (target.startsWith('/')) return resolveMention(root, '', `.${target}`, tracked);
  for (const base of basesOf(file, target)) {
    const candidate = path.posix.normalize(path.posix.join(base, target));
    if (candidate.startsWith('../') || path.posix.isAbsolute(candidate)) continue;
    if (tracked.has(candidate) || isFile(path.join(root, candidate))) return candidate;
  }
  return undefined;
}

/** Where a mention is looked for: next to the mentioning file, and from the root unless it starts with ./ or ../. */
function basesOf(file, target) {
  const here = path.posix.dirname(file);
  return target.startsWith('./') || target.startsWith('../') ? [here] : [here, '.'];
}

function isScanned(root, file) {
  const segments = file.split('/');
  if (segments.includes('node_modules') || segments[0] === 'dist') return false;
  const name = segments[segments.length - 1];
  if (SCANNED.test(name)) return true;
  if (name.includes('.')) return false;
  // An extensionless script: scanned when it starts with #!.
  const head = readText(path.join(root, file), 2);
  return head !== undefined && head.startsWith('#!');
}

function readText(absolute, bytes) {
  try {
    const stat = fs.statSync(absolute);
    if (!stat.isFile() || stat.size > FILE_BYTES_MAX) return undefined;
    const buffer = fs.readFileSync(absolute);
    const slice = bytes === undefined ? buffer : buffer.subarray(0, bytes);
    if (slice.includes(0)) return undefined; // binary
    return slice.toString('utf8');
  } catch {
    return undefined; // deleted in the work tree but still tracked
  }
}

function isFile(absolute) {
  try {
    return fs.statSync(absolute).isFile();
  } catch {
    return false;
  }
}

/** Folders never scanned when the files are listed without git: installed, built or generated. */
const UNTRACKED_FOLDERS = new Set(['.git', 'node_modules', 'dist', 'tmp', 'coverage', '.nx', 'data']);

/**
 * The files to check, relative to root: those git tracks under root, or, where root is not in a git work tree (an
 * unpacked archive) or git is missing, every file under root outside the folders of UNTRACKED_FOLDERS.
 * @returns {{ files: string[], listedBy: 'git' | 'folder walk' }}
 */
export function listFiles(root) {
  try {
    const out = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
    return { files: out.split('\0').filter((file) => file !== ''), listedBy: 'git' };
  } catch {
    const files = [];
    const walk = (relative) => {
      for (const entry of fs.readdirSync(path.join(root, relative), { withFileTypes: true })) {
        const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
        if (entry.isDirectory() && !UNTRACKED_FOLDERS.has(entry.name)) walk(child);
        else if (entry.isFile()) files.push(child);
      }
    };
    walk('');
    return { files: files.sort(), listedBy: 'folder walk' };
  }
}

function main(argv) {
  // The repository this script belongs to, unless told otherwise.
  let root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--root' && argv[i + 1] !== undefined) root = path.resolve(argv[++i]);
    else {
      process.stderr.write('usage: check-doc-links.mjs [--root DIR]\n');
      return 2;
    }
  }
  if (!isDirectory(root)) {
    process.stderr.write(`check-doc-links: ${root} is not a folder\n`);
    return 2;
  }
  const { files, listedBy } = listFiles(root);
  const { problems, mentions, files: scanned } = checkDocLinks(root, files);
  for (const problem of problems) process.stdout.write(`${problem}\n`);
  if (problems.length > 0) {
    process.stderr.write(`check-doc-links: ${problems.length} dangling reference(s) to Markdown files\n`);
    return 1;
  }
  const how = listedBy === 'git' ? '' : ` (files listed by a ${listedBy}: not a git work tree)`;
  process.stdout.write(`check-doc-links: ${mentions} references to Markdown files in ${scanned} files, all resolve${how}\n`);
  return 0;
}

function isDirectory(absolute) {
  try {
    return fs.statSync(absolute).isDirectory();
  } catch {
    return false;
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
