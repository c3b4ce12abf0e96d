// Bar charts in hand-made SVG, shared by the dashboard and the campaigns
// page: one slot per item, its series' bars side by side, five grid lines
// with their values, and a word when every bar is empty.

import { h, s } from './dom.js';
import { number } from './format.js';

// niceMax rounds a chart's top up to 1, 2, 2.5 or 5 times a power of ten.
export function niceMax(v) {
  if (v <= 4) return 4;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

// barChart draws items as bars. series lists each bar of a slot:
// { cls, value: (item) => number }. group(item) gives the slot's attributes
// (class, data-testid, data-*), tip(item) its tooltip, tick(item) its axis
// label, shown where labelAt(i, n, narrow) says so. empty is the text shown
// when every value is zero.
export function barChart({ items, series, label, testid, group, tip, tick, labelAt, empty }) {
  const narrow = window.innerWidth < 600;
  const W = narrow ? 380 : 760;
  const H = narrow ? 200 : 240;
  const m = { l: 40, r: 10, t: 12, b: 28 };
  const iw = W - m.l - m.r;
  const ih = H - m.t - m.b;
  const values = items.map((x) => series.map((se) => Number(se.value(x) || 0)));
  const max = niceMax(Math.max(0, ...values.flat()));
  const y = (v) => m.t + ih - (v / max) * ih;
  const slot = iw / Math.max(items.length, 1);
  const bw = series.length === 1 ? Math.max(2, Math.min(16, slot * 0.6)) : Math.max(1, Math.min(12, slot * 0.34));
  const svg = s('svg', {
    class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label, 'data-testid': testid,
    preserveAspectRatio: 'xMidYMid meet',
  });
  for (let i = 0; i <= 4; i++) {
    const v = (max / 4) * i;
    svg.append(
      s('line', { class: 'grid', x1: m.l, x2: W - m.r, y1: y(v), y2: y(v) }),
      s('text', { class: 'axis', x: m.l - 6, y: y(v) + 4, 'text-anchor': 'end' }, number(v)));
  }
  const width = series.length * bw + (series.length - 1);
  items.forEach((x, i) => {
    const cx = m.l + slot * i + slot / 2;
    const bars = values[i].map((v, k) => s('rect', {
      class: `bar ${series[k].cls}`, x: cx - width / 2 + k * (bw + 1), y: y(v), width: bw, height: Math.max(0, m.t + ih - y(v)), rx: 2,
    }));
    svg.append(s('g', group(x),
      s('title', {}, tip(x)),
      s('rect', { class: 'hover', x: m.l + slot * i, y: m.t, width: slot, height: ih }),
      ...bars));
    if (labelAt(i, items.length, narrow)) svg.append(s('text', { class: 'axis', x: cx, y: H - 8, 'text-anchor': 'middle' }, tick(x)));
  });
  svg.append(s('line', { class: 'baseline', x1: m.l, x2: W - m.r, y1: m.t + ih, y2: m.t + ih }));
  if (!values.flat().some((v) => v > 0)) {
    svg.append(s('text', { class: 'chart-empty', x: m.l + iw / 2, y: m.t + ih / 2, 'text-anchor': 'middle' }, empty));
  }
  return h('div', { class: 'chart-wrap' }, svg);
}
