import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { TestCluster, entryPoint, keepClusterFiles, repoRoot, request, requireTool } from '@kv/testkit';
import { chromium, type Browser, type Page } from 'playwright-core';
import { runProgram } from './support/run-program';

// The status page (GET /ui) in a real browser, Debian's headless Chromium driven by playwright-core, against a running
// cluster: it loads without console errors, follows nodes going down and up, a membership change, a proxy restart, and
// asks for the token once the proxy has one. Screenshots at desktop and phone widths, and during the change, go to
// tmp/status-page/ (or KV_SCREENSHOT_DIR); the README shows the last one.

const KEYS = 400;
const TOKEN = 'status-page-token';
/** How long the suite sends reads and writes before the page opens, so that its charts have something to draw. */
const LOAD_MS = 4000;
/** Slow streaming, so that the change lasts a few polls of the page. */
const STREAM_BYTES_PER_S = 8 * 1024;
/** How long the page may take to show a change: a probe (1 s), a poll (2 s), and slack for a loaded machine. */
const SHOWN_WITHIN_MS = 8000;
const SCREENSHOT_DIR = process.env.KV_SCREENSHOT_DIR ?? path.join(repoRoot(), 'tmp', 'status-page');

const hasChromium = requireTool('chromium', 'chromium', 'status page browser test');
const withChromium = hasChromium ? describe : describe.skip;

let cluster: TestCluster;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

/** Runs the built CLI against the cluster's proxy; resolves with its exit code and output. */
function kv(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runProgram(process.execPath, [entryPoint('client'), '--server', cluster.proxyUrl, ...args], { KV_SERVER: '', KV_TOKEN: '' });
}

const row = (node: string, status: 'up' | 'down'): string => `#nodes tr[data-node="${node}"][data-status="${status}"]`;

/** Writes a screenshot of the page to SCREENSHOT_DIR: the whole page, or only what the window shows. */
async function screenshot(name: string, fullPage = true): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage });
}

withChromium('the status page in a browser', () => {
  beforeAll(async () => {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    cluster = await TestCluster.start({ proxyEnv: { STREAM_BYTES_PER_S: String(STREAM_BYTES_PER_S) } });
    const ops = Array.from({ length: KEYS }, (_, i) => ({ op: 'set', key: `page:${i}`, value: `value ${i} `.padEnd(64, '.') }));
    expect((await request(cluster.proxyUrl, 'POST', '/batch', { ops })).status).toBe(200);
    // A few seconds of reads and writes, for the charts to draw.
    const until = Date.now() + LOAD_MS;
    for (let i = 0; Date.now() < until; i++) {
      await request(cluster.proxyUrl, i % 4 === 0 ? 'PUT' : 'GET', `/kv/page:${i % KEYS}`, i % 4 === 0 ? { value: `again ${i}` } : undefined);
    }
    const executablePath = spawnSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).stdout.trim();
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(String(error)));
  });

  afterAll(async () => {
    await browser?.close();
    await cluster?.stop({ keepFiles: keepClusterFiles() });
  });

  test('loads with no console error and shows three nodes up, the ring and the charts; screenshots at desktop and phone widths', async () => {
    await page.goto(`${cluster.proxyUrl}/ui`);
    await page.waitForSelector('#connection[data-kind="live"]', { timeout: SHOWN_WITHIN_MS });
    for (const node of ['node1', 'node2', 'node3']) await page.waitForSelector(row(node, 'up'), { timeout: SHOWN_WITHIN_MS });
    expect(await page.locator('#summary').textContent()).toMatch(/^3 of 3 nodes up · N=3 W=2 R=2/);
    // The inline styles ran under the page's Content-Security-Policy (allowed by their hash), as the script did.
    expect(await page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(18, 22, 31)');
    expect(await page.locator('#ring path').count()).toBeGreaterThan(3);
    // Keys as the nodes' probes reported them: every node holds every key (N=3).
    expect(await page.locator(`#nodes tr[data-node="node1"] td.num`).first().textContent()).toBe(KEYS.toLocaleString('en-US'));
    // The charts appear once a bucket of requests is complete (the batches above).
    await page.waitForSelector('#chart-ops canvas', { timeout: SHOWN_WITHIN_MS });
    await screenshot('desktop');
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot('phone');
    // Nothing wider than the phone's screen but the nodes table, which scrolls in its card.
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(consoleErrors).toEqual([]);
  });

  test('a killed node is shown down within seconds, and up again after its restart', async () => {
    await cluster.killNode('node2');
    await page.waitForSelector(row('node2', 'down'), { timeout: SHOWN_WITHIN_MS });
    expect(await page.locator('#summary').textContent()).toMatch(/^2 of 3 nodes up/);
    await cluster.restartNode('node2');
    await page.waitForSelector(row('node2', 'up'), { timeout: SHOWN_WITHIN_MS });
  });

  test('`kv cluster add` of a 4th node: the page shows the change, its progress and the moving ranges, then four nodes', async () => {
    await cluster.addNode('node4');
    const add = kv('cluster', 'add', `node4=${cluster.nodeUrl('node4')}`, '--wait', '--poll-interval', '200', '--wait-timeout', '60');
    await page.waitForSelector('#change:not([hidden])', { timeout: SHOWN_WITHIN_MS });
    expect(await page.locator('#change .title').textContent()).toMatch(/^Change c\d+-[0-9a-f]+ \(\+node4\)/);
    expect(await page.locator('#ring path.moving').count()).toBeGreaterThan(0);
    expect(await page.locator(`#nodes tr[data-node="node4"]`).textContent()).toContain('joining');
    // The window alone (nodes, ring, progress, the first chart): the README's picture (docs/img/status-page.png).
    await screenshot('change', false);
    const run = await add;
    expect(run.code).toBe(0);
    await page.waitForSelector('#change', { state: 'hidden', timeout: SHOWN_WITHIN_MS });
    for (const node of ['node1', 'node2', 'node3', 'node4']) await page.waitForSelector(row(node, 'up'), { timeout: SHOWN_WITHIN_MS });
    expect(await page.locator('#ring path.moving').count()).toBe(0);
  });

  test('the page comes back by itself after the proxy restarts', async () => {
    await cluster.proxy.stop();
    await page.waitForSelector('#connection[data-kind="offline"]', { timeout: SHOWN_WITHIN_MS });
    await cluster.startProxy();
    await page.waitForSelector('#connection[data-kind="live"]', { timeout: SHOWN_WITHIN_MS });
  });

  test('with AUTH_TOKEN set the page asks for the token, sends it, and never shows it', async () => {
    await cluster.restartProxy({ AUTH_TOKEN: TOKEN });
    await page.reload();
    await page.waitForSelector('#token:not([hidden])', { timeout: SHOWN_WITHIN_MS });
    expect(await page.locator('#connection').getAttribute('data-kind')).toBe('needs-token');
    await page.fill('#token-input', 'not-the-token');
    await page.click('#token button');
    await page.waitForSelector('#token-wrong:not([hidden])', { timeout: SHOWN_WITHIN_MS });
    await page.fill('#token-input', TOKEN);
    await page.click('#token button');
    await page.waitForSelector('#connection[data-kind="live"]', { timeout: SHOWN_WITHIN_MS });
    expect(await page.locator('#token').isHidden()).toBe(true);
    expect(await page.locator('#token-input').inputValue()).toBe('');
    expect(await page.content()).not.toContain(TOKEN);
    await page.waitForSelector(row('node4', 'up'), { timeout: SHOWN_WITHIN_MS });
  });
});
