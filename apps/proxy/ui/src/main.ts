import { chartData } from './chart-data';
import { LiveChart } from './charts';
import { StatePoller, type Connection } from './poller';
import { byId, renderConnection, renderState } from './render';

/** The token is kept for this tab only (sessionStorage), never shown, and sent only as a header. */
const TOKEN_KEY = 'kv-token';

function start(): void {
  const charts = {
    ops: new LiveChart(byId('chart-ops'), ''),
    latency: new LiveChart(byId('chart-latency'), ' ms', true),
    errors: new LiveChart(byId('chart-errors'), ' %', true),
  };
  window.addEventListener('resize', () => {
    for (const chart of Object.values(charts)) chart.resize();
  });
  let last: Connection = { kind: 'connecting' };
  const show = (connection: Connection): void => {
    last = connection;
    renderConnection(connection, Date.now());
    if (connection.kind !== 'live') return;
    renderState(connection.state);
    const data = chartData(connection.state.stats);
    charts.ops.update(data.ops);
    charts.latency.update(data.latency);
    charts.errors.update(data.errors);
  };
  const poller = new StatePoller({
    fetch: (url, init) => fetch(url, { ...init, cache: 'no-store' }),
    setTimeout: (callback, ms) => window.setTimeout(callback, ms),
    clearTimeout: (handle) => window.clearTimeout(handle as number),
    now: () => Date.now(),
    onChange: show,
    url: `${location.pathname.replace(/\/+$/, '')}/state`,
  });
  const form = byId<HTMLFormElement>('token');
  const input = byId<HTMLInputElement>('token-input');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = input.value.trim();
    input.value = '';
    try {
      sessionStorage.setItem(TOKEN_KEY, token);
    } catch {
      // Storage refused (a private window): the token lasts until the page is left.
    }
    poller.useToken(token);
  });
  // The "no answer for ..." line keeps counting while offline.
  window.setInterval(() => {
    if (last.kind === 'offline') renderConnection(last, Date.now());
  }, 1000);
  let saved: string | null = null;
  try {
    saved = sessionStorage.getItem(TOKEN_KEY);
  } catch {
    saved = null;
  }
  if (saved !== null && saved !== '') poller.useToken(saved);
  else poller.start();
}

start();
