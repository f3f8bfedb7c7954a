import type { UiState } from '../../src/ui/ui-state';
import { arcPath, nodeColours, type RingGeometry } from './ring-draw';
import { ago, bytes, changeProgress, count, hasTombstones, nodeRows, percent, repairProgress, summary, type Progress } from './view';
import type { Connection } from './poller';

const SVG = 'http://www.w3.org/2000/svg';
const RING: RingGeometry = { cx: 110, cy: 110, inner: 62, outer: 100 };
const MOVING: RingGeometry = { cx: 110, cy: 110, inner: 52, outer: 59 };

/** Finds an element of the page by id (the page's skeleton has them all). */
export function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`the page has no #${id}`);
  return element as T;
}

/** Creates an element with text (never HTML: nothing the proxy sends is parsed as markup). */
function el(tag: string, text = '', className = ''): HTMLElement {
  const element = document.createElement(tag);
  element.textContent = text;
  if (className !== '') element.className = className;
  return element;
}

/** Shows the connection's state in the header badge. */
export function renderConnection(connection: Connection, nowMs: number): void {
  const badge = byId('connection');
  badge.dataset.kind = connection.kind;
  badge.textContent =
    connection.kind === 'live'
      ? 'live'
      : connection.kind === 'offline'
        ? `no answer for ${ago(nowMs, connection.since)}: retrying`
        : connection.kind === 'needs-token'
          ? 'token needed'
          : 'connecting';
  document.body.dataset.stale = connection.kind === 'offline' ? 'true' : 'false';
  const form = byId('token');
  form.hidden = connection.kind !== 'needs-token';
  byId('token-wrong').hidden = !(connection.kind === 'needs-token' && connection.wrong);
}

/** Draws the whole state but the charts. */
export function renderState(state: UiState): void {
  byId('summary').textContent = summary(state);
  renderNodes(state);
  renderRing(state);
  renderProgress('change', changeProgress(state.change));
  renderProgress('repair', repairProgress(state.repair));
  byId('hints').textContent = `${count(state.hints.pending)} pending (${bytes(state.hints.bytes)}) · ${count(state.hints.dropped)} dropped`;
}

function renderNodes(state: UiState): void {
  const table = byId<HTMLTableElement>('nodes');
  const withTombstones = hasTombstones(state.nodes);
  table.dataset.tombstones = String(withTombstones);
  const body = table.tBodies[0];
  const colours = nodeColours(state.nodes.map((node) => node.id));
  body.replaceChildren(
    ...nodeRows(state).map((row) => {
      const tr = document.createElement('tr');
      tr.dataset.node = row.id;
      tr.dataset.status = row.status;
      const name = el('td');
      const swatch = el('span', '', 'swatch');
      swatch.style.background = colours.get(row.id) ?? '#888';
      name.append(swatch, row.id);
      const cells = [name, el('td', row.status, `badge ${row.status}`), el('td', row.state), el('td', row.keys, 'num')];
      if (withTombstones) cells.push(el('td', row.tombstones, 'num'));
      cells.push(el('td', row.sync, row.weakSync ? 'weak' : ''), el('td', row.share, 'num'));
      tr.append(...cells);
      return tr;
    }),
  );
}

function renderRing(state: UiState): void {
  const svg = byId('ring');
  const colours = nodeColours(state.nodes.map((node) => node.id));
  const paths: Element[] = [];
  for (const arc of state.ring.arcs) {
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', arcPath(RING, arc));
    path.setAttribute('fill', colours.get(arc.node) ?? '#888');
    if (state.nodes.find((node) => node.id === arc.node)?.status === 'down') path.setAttribute('opacity', '0.3');
    paths.push(path);
  }
  for (const arc of state.ring.moving) {
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', arcPath(MOVING, arc));
    path.setAttribute('fill', colours.get(arc.to) ?? '#fff');
    path.setAttribute('class', 'moving');
    paths.push(path);
  }
  const label = document.createElementNS(SVG, 'text');
  label.setAttribute('x', String(RING.cx));
  label.setAttribute('y', String(RING.cy + 5));
  label.setAttribute('text-anchor', 'middle');
  label.textContent = state.ring.moving.length > 0 ? `${percent(state.ring.moving.reduce((sum, arc) => sum + arc.end - arc.start, 0))} moves` : `${state.vnodes} vnodes`;
  paths.push(label);
  svg.replaceChildren(...paths);
}

function renderProgress(id: string, progress: Progress | undefined): void {
  const box = byId(id);
  box.hidden = progress === undefined;
  if (progress === undefined) return;
  box.dataset.fraction = progress.fraction.toFixed(3);
  const part = (selector: string): HTMLElement => {
    const element = box.querySelector<HTMLElement>(selector);
    if (element === null) throw new Error(`the page has no #${id} ${selector}`);
    return element;
  };
  part('.title').textContent = progress.title;
  part('.bar > span').style.width = `${(progress.fraction * 100).toFixed(1)}%`;
  part('.detail').textContent = progress.detail;
}
