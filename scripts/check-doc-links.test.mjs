// check-doc-links: ignore-file (the fixtures below point at missing files on purpose)
// Tests of scripts/check-doc-links.mjs: a repository whose references all resolve passes, and each kind of dangling
// reference fails with its file and line.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { anchorsOf, checkDocLinks, githubSlug, listFiles, mentionsOf } from './check-doc-links.mjs';

const SCRIPT = fileURLToPath(new URL('./check-doc-links.mjs', import.meta.url));
const { decideTool } = createRequire(import.meta.url)('./lib/require-tool.cjs');

const dirs = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A folder with these files (path -> text), not in any git work tree. */
function tree(files) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-links-'));
  dirs.push(root);
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  }
  return root;
}

function run(root) {
  const result = spawnSync(process.execPath, [SCRIPT, '--root', root], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const DOCS = {
  'README.md': '# Project\n\nSee [the CLI](docs/cli.md#exit-codes) and [set](docs/cli.md#kv-set-key-value).\n',
  'docs/cli.md': [
    '# The CLI',
    '## Exit codes',
    '### `kv set <key> <value>`',
    '## Notes',
    '## Notes',
    '```sh',
    '# not a heading',
    '```',
    'Back to [the top](#the-cli), on to [errors](errors.md#codes) and [notes](#notes-1).',
    '',
  ].join('\n'),
  'docs/errors.md': 'Errors\n======\n\n## Codes\n\nThe CLI: [cli.md](./cli.md).\n',
  'libs/a/src/a.ts': [
    '/** The exit codes of docs/cli.md#exit-codes; the format in ../../../docs/errors.md and libs/a/README.md. */',
    "const url = 'https://example.com/docs/missing.md';",
    "const glob = '**/*.md';",
    "const pkg = '@scope/thing.md';",
    '// node_modules/x/missing.md and dist/missing.md are not ours',
    '',
  ].join('\n'),
  'libs/a/README.md': '# a\n\nBack to [the project](../../README.md).\n',
  'scripts/run.sh': '#!/bin/sh\n# writes docs/cli.md\n',
  'bin/tool': '#!/bin/sh\n# see README.md\n',
  'notes.txt': 'nothing here is read: missing.md\n',
};

describe('check-doc-links.mjs', () => {
  test('passes when every mention resolves, and says how many it checked', () => {
    const result = run(tree(DOCS));
    assert.equal(result.status, 0, result.stdout + result.stderr);
    // 7 files: notes.txt is not read; 12 references: 2 in README.md, 3 in docs/cli.md, 1 in docs/errors.md, 3 in a.ts,
    // 1 in libs/a/README.md, 1 in each script.
    assert.equal(
      result.stdout,
      'check-doc-links: 12 references to Markdown files in 7 files, all resolve (files listed by a folder walk: not a git work tree)\n',
    );
  });

  test('fails with one line per dangling reference, naming the file and line', () => {
    const root = tree({
      ...DOCS,
      'docs/cli.md': `${DOCS['docs/cli.md']}See [the old page](old-page.md) and [codes](errors.md#no-such-heading).\n`,
      'libs/a/src/b.ts': '// fine: docs/errors.md\n/** Defaults of defaults.md and docs/formats/wal.md. */\n',
      'README.md': `${DOCS['README.md']}Rules: [style](../outside/rules.md). Spec: /srv/elsewhere/notes.md\n`,
    });
    const result = run(root);
    assert.equal(result.status, 1);
    assert.deepEqual(result.stdout.trim().split('\n').sort(), [
      'README.md:4: ../outside/rules.md: no such file in the repository (it points outside the repository)',
      'README.md:4: /srv/elsewhere/notes.md: no such file in the repository',
      'docs/cli.md:10: errors.md#no-such-heading: docs/errors.md has no heading with the anchor #no-such-heading',
      'docs/cli.md:10: old-page.md: no such file in the repository',
      'libs/a/src/b.ts:2: defaults.md: no such file in the repository',
      'libs/a/src/b.ts:2: docs/formats/wal.md: no such file in the repository',
    ]);
    assert.equal(result.stderr, 'check-doc-links: 6 dangling reference(s) to Markdown files\n');
  });

  test('a missing heading of the same page fails too', () => {
    const root = tree({ ...DOCS, 'docs/errors.md': `${DOCS['docs/errors.md']}\nSee [below](#codez).\n` });
    assert.deepEqual(run(root).stdout, 'docs/errors.md:8: #codez: docs/errors.md has no heading with the anchor #codez\n');
  });

  test('the ignore markers skip a line or a whole file', () => {
    const root = tree({
      ...DOCS,
      'a.ts': "const name = 'generated.md'; // check-doc-links: ignore (a file this code writes)\n",
      'b.ts': '// check-doc-links: ignore-file\n// missing.md\n',
    });
    assert.equal(run(root).status, 0);
  });

  test('reads only the files git tracks in a git work tree', (t) => {
    const git = decideTool({ check: 'check-doc-links over git ls-files', tool: 'git', install: 'git' });
    if (git.status === 'skip') return t.skip(git.message);
    if (git.status === 'fail') assert.fail(git.message);
    const root = tree({ ...DOCS, 'untracked.md': 'See missing.md\n' });
    const gitIn = (...args) => execFileSync('git', args, { cwd: root, stdio: 'ignore' });
    gitIn('init', '-q');
    gitIn('add', ...Object.keys(DOCS));
    assert.equal(listFiles(root).listedBy, 'git');
    assert.equal(run(root).status, 0);
    gitIn('add', 'untracked.md');
    assert.equal(run(root).stdout, 'untracked.md:1: missing.md: no such file in the repository\n');
  });

  test('exit 2 on bad usage', () => {
    assert.equal(spawnSync(process.execPath, [SCRIPT, '--nope']).status, 2);
  });
});

describe('mentionsOf', () => {
  const cases = [
    ['see docs/formats/wal.md.', false, [['docs/formats/wal.md', undefined]]],
    ['(libs/ring/README.md, Balance)', false, [['libs/ring/README.md', undefined]]],
    ['[errors.md](../errors.md#codes)', true, [['../errors.md', 'codes']]],
    ['[x](<docs/a b.md>) [y](docs/c%20d.md "title")', true, [['docs/a b.md', undefined], ['docs/c d.md', undefined]]],
    ['[top](#intro)', true, [['', 'intro']]],
    ['[top](#intro)', false, []],
    ['[ref]: docs/cli.md#exit-codes', true, [['docs/cli.md', 'exit-codes']]],
    ['https://github.com/o/r/blob/main/README.md', false, []],
    ['@kv/notes.md *.md node_modules/p/README.md dist/x.md ${dir}/README.md $HOME.md', false, []],
    ['docs/ARCHITECTURE.md#data-path and docs/ARCHITECTURE.md#data-path', false, [['docs/ARCHITECTURE.md', 'data-path']]],
    ['a.mdx README.markdown foo.md5', false, []],
  ];
  for (const [line, markdown, expected] of cases) {
    test(`${line} (${markdown ? 'Markdown' : 'code'})`, () => assert.deepEqual(mentionsOf(line, markdown), expected));
  }
});

describe('anchors', () => {
  test('githubSlug follows GitHub', () => {
    assert.equal(githubSlug('Exit codes'), 'exit-codes');
    assert.equal(githubSlug('kv set <key> <value>'), 'kv-set-key-value');
    assert.equal(githubSlug('POST /batch'), 'post-batch');
    assert.equal(githubSlug('Incarnations (a node that lost its disk)'), 'incarnations-a-node-that-lost-its-disk');
    assert.equal(githubSlug('File header (32 bytes, segments and snapshots)'), 'file-header-32-bytes-segments-and-snapshots');
    assert.equal(githubSlug('Last run (2026-11-26 15:31 UTC)'), 'last-run-2026-11-26-1531-utc');
    assert.equal(githubSlug('snake_case and Ünïcode'), 'snake_case-and-ünïcode');
  });

  test('anchorsOf: ATX and setext headings, repeats numbered, code fences skipped, explicit ids', () => {
    const anchors = anchorsOf(
      ['Title', '=====', '## `GET /kv/{key}`', '## Notes', '## Notes', '```', '## not one', '```', '<a id="kept"></a>', '- item', '---'].join('\n'),
    );
    assert.deepEqual([...anchors].sort(), ['get-kvkey', 'kept', 'notes', 'notes-1', 'title']);
  });

  test('checkDocLinks resolves next to the file first, then from the root', () => {
    const root = tree({ 'docs/a.md': '[b](b.md)\n', 'docs/b.md': '# b\n', 'b.md': '# root b\n', 'c.ts': '// docs/a.md\n' });
    assert.deepEqual(checkDocLinks(root, ['docs/a.md', 'docs/b.md', 'b.md', 'c.ts']).problems, []);
  });
});
