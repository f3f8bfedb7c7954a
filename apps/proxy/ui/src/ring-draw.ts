import type { RingArc } from '../../src/ui/ring-view';

/** A circle to draw arcs on: centre and radii of a ring band, in SVG units. */
export interface RingGeometry {
  cx: number;
  cy: number;
  inner: number;
  outer: number;
}

/** A point on a circle of `radius` at `fraction` (0..1) of the way round, clockwise from the top. */
function point(g: RingGeometry, radius: number, fraction: number): [number, number] {
  const angle = fraction * 2 * Math.PI - Math.PI / 2;
  return [round(g.cx + radius * Math.cos(angle)), round(g.cy + radius * Math.sin(angle))];
}

/**
 * The SVG path of an arc of the band between the inner and outer radius, from `arc.start` to `arc.end` (fractions of the
 * circle, clockwise from the top). A whole circle is drawn as two halves (an SVG arc cannot end where it starts).
 */
export function arcPath(g: RingGeometry, arc: RingArc): string {
  const span = arc.end - arc.start;
  if (span <= 0) return '';
  if (span >= 0.999999) return `${arcPath(g, { start: 0, end: 0.5 })} ${arcPath(g, { start: 0.5, end: 1 })}`;
  const large = span > 0.5 ? 1 : 0;
  const [x0, y0] = point(g, g.outer, arc.start);
  const [x1, y1] = point(g, g.outer, arc.end);
  const [x2, y2] = point(g, g.inner, arc.end);
  const [x3, y3] = point(g, g.inner, arc.start);
  return `M${x0} ${y0}A${g.outer} ${g.outer} 0 ${large} 1 ${x1} ${y1}L${x2} ${y2}A${g.inner} ${g.inner} 0 ${large} 0 ${x3} ${y3}Z`;
}

/** Distinct colours on a dark background; a node's is picked by its place among the ids sorted. */
const PALETTE = ['#4e9de6', '#d15fd1', '#e07b39', '#5cc85c', '#e6c84e', '#4ec9c0', '#9b7be6', '#e65c6e', '#a3b84e', '#8fa3bf'];

/** A colour per node: by its place among the ids sorted, so adding a node that sorts last keeps the others'. */
export function nodeColours(ids: readonly string[]): Map<string, string> {
  const sorted = [...new Set(ids)].sort();
  return new Map(sorted.map((id, i) => [id, PALETTE[i % PALETTE.length]]));
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
