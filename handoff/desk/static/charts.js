/*
 * Hilo agent desk: small SVG charts for the reports page (no library, no build step).
 *
 * Each chart is a <figure> with a visible title (<figcaption>), an <svg role="img"> whose
 * aria-label and <title> say in words what the chart shows (screen readers and anyone who
 * cannot see the colours get the numbers), axis titles, and an empty state drawn inside the
 * same SVG so the page keeps its layout when a period has no data.
 *
 * Everything is built with createElementNS and textContent: labels come from the API (agent
 * names, channel names) and must never be parsed as markup. Colours come from classes in
 * reports.css, not from inline styles, because the desk's CSP forbids inline styles.
 */

import { append } from './common.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
// The drawing's own coordinates; CSS scales the SVG to the column's width.
const WIDTH = 520;
const HEIGHT = 240;
const MARGIN = { top: 16, right: 16, bottom: 48, left: 64 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;
const MAX_X_LABELS = 8; // more would overlap at this width
const DOTS_UP_TO = 62; // points on a line are drawn for about two months, not for a year

const LABEL_CHARS = 14; // longer x labels (agent names) are cut; the bar's tooltip has it all

/** An SVG element with attributes (values from this file or numbers only) and children. */
function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'text') node.textContent = String(value);
    else node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

/**
 * Round steps (1, 2, 2.5, 5 × 10^n) from 0 to at least `max`; whole steps for counts
 * (half a conversation is not a tick anyone wants to read).
 */
export function niceTicks(max, count = 4, whole = false) {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((f) => f * power).find((s) => s >= raw) || raw;
  if (whole) step = Math.max(1, Math.ceil(step));
  const ticks = [];
  for (let value = 0; value < max + step / 2; value += step) ticks.push(Number(value.toPrecision(12)));
  if (ticks[ticks.length - 1] < max) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

/** Which of `count` x labels to print so that no more than MAX_X_LABELS show. */
function labelEvery(count) {
  return Math.max(1, Math.ceil(count / MAX_X_LABELS));
}

/**
 * The frame every chart shares: the figure, caption, SVG with its text alternative, axes,
 * gridlines and axis titles. `draw(plot, y)` adds the marks; `y(value)` maps to pixels.
 */
function frame(options, ticks, draw) {
  const { title, summary, xTitle, yTitle, yFormat, testid, empty, emptyText } = options;
  const top = ticks[ticks.length - 1] || 1;
  const y = (value) => MARGIN.top + PLOT_H - (value / top) * PLOT_H;
  const label = empty ? title + '. ' + emptyText : title + '. ' + summary;
  const root = svg('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    class: 'chart-svg',
    role: 'img',
    'aria-label': label,
    preserveAspectRatio: 'xMidYMid meet',
  }, svg('title', { text: label }));
  const grid = svg('g', { class: 'chart-grid', 'aria-hidden': 'true' });
  for (const tick of ticks) {
    grid.append(
      svg('line', { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(tick), y2: y(tick) }),
      svg('text', { class: 'chart-tick', x: MARGIN.left - 6, y: y(tick) + 4, 'text-anchor': 'end', text: yFormat(tick) }));
  }
  root.append(grid);
  root.append(svg('line', {
    class: 'chart-axis', x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(0), y2: y(0), 'aria-hidden': 'true',
  }));
  const plot = svg('g', { class: 'chart-plot' });
  root.append(plot);
  if (empty) {
    root.append(svg('text', {
      class: 'chart-empty', x: MARGIN.left + PLOT_W / 2, y: MARGIN.top + PLOT_H / 2, 'text-anchor': 'middle',
      'data-testid': 'chart-empty', text: emptyText,
    }));
  } else {
    draw(plot, y);
  }
  root.append(
    svg('text', {
      class: 'chart-axis-title', x: MARGIN.left + PLOT_W / 2, y: HEIGHT - 6, 'text-anchor': 'middle', text: xTitle,
    }),
    svg('text', {
      class: 'chart-axis-title',
      x: 0,
      y: 0,
      'text-anchor': 'middle',
      transform: `translate(14 ${MARGIN.top + PLOT_H / 2}) rotate(-90)`,
      text: yTitle,
    }));
  const figure = document.createElement('figure');
  figure.className = 'chart';
  figure.dataset.testid = testid;
  figure.dataset.empty = String(Boolean(empty));
  const caption = document.createElement('figcaption');
  caption.className = 'chart-title';
  caption.textContent = title;
  figure.append(caption, root);
  if (options.legend && !empty) figure.append(legend(options.legend));
  return figure;
}

function legend(items) {
  const list = document.createElement('ul');
  list.className = 'chart-legend';
  items.forEach((name, index) => {
    const item = document.createElement('li');
    const swatch = document.createElement('span');
    swatch.className = 'chart-swatch series-' + index;
    swatch.setAttribute('aria-hidden', 'true');
    item.append(swatch, document.createTextNode(name));
    list.append(item);
  });
  return list;
}

function xLabels(plot, labels, xOf) {
  const every = labelEvery(labels.length);
  labels.forEach((label, index) => {
    if (index % every !== 0) return;
    const text = label.length > LABEL_CHARS ? label.slice(0, LABEL_CHARS - 1) + '…' : label;
    plot.append(svg('text', {
      class: 'chart-tick', x: xOf(index), y: MARGIN.top + PLOT_H + 16, 'text-anchor': 'middle', text,
    }));
  });
}

function finite(values) {
  return values.filter((value) => typeof value === 'number' && Number.isFinite(value));
}

/**
 * Lines over time. `series`: [{name, values}] with one value per label, null where there
 * is nothing to show (a rate on a day without conversations): the line breaks there rather
 * than dropping to zero, which would read as "0 %".
 */
export function lineChart(options) {
  const { labels, series, yFormat, yMax, pointLabel } = options;
  const all = finite(series.flatMap((item) => item.values));
  const empty = labels.length === 0 || all.length === 0 || (options.emptyWhenZero && all.every((v) => v === 0));
  const ticks = options.ticks || (yMax ? niceTicks(yMax) : niceTicks(Math.max(0, ...all), 4, options.whole));
  const step = labels.length > 1 ? PLOT_W / (labels.length - 1) : 0;
  const xOf = (index) => MARGIN.left + (labels.length > 1 ? index * step : PLOT_W / 2);
  const legendNames = series.length > 1 ? series.map((item) => item.name) : null;
  return frame({ ...options, empty, legend: legendNames }, ticks, (plot, y) => {
    xLabels(plot, labels, xOf);
    series.forEach((item, index) => {
      let path = '';
      let pen = false;
      item.values.forEach((value, at) => {
        if (typeof value !== 'number' || !Number.isFinite(value)) {
          pen = false;
          return;
        }
        path += (pen ? 'L' : 'M') + xOf(at).toFixed(1) + ' ' + y(value).toFixed(1);
        pen = true;
      });
      const group = svg('g', { class: 'chart-series series-' + index, 'data-series': item.name });
      if (path) group.append(svg('path', { d: path, class: 'chart-line' }));
      const dots = labels.length <= DOTS_UP_TO;
      item.values.forEach((value, at) => {
        if (typeof value !== 'number' || !Number.isFinite(value)) return;
        // A lone point between two gaps has no line, so it always gets its dot.
        const lone = !finite([item.values[at - 1]]).length && !finite([item.values[at + 1]]).length;
        if (!dots && !lone) return;
        group.append(svg('circle', { class: 'chart-dot', cx: xOf(at), cy: y(value), r: 3 },
          svg('title', { text: pointLabel(labels[at], item.name, yFormat(value), at) })));
      });
      plot.append(group);
    });
  });
}

/**
 * Bars by category. `series`: [{name, values}], side by side when there are several.
 * Zero bars are still drawn as a hairline so that "none" is visible, unlike a missing bar.
 */
export function barChart(options) {
  const { labels, series, yFormat, yMax, pointLabel } = options;
  const all = finite(series.flatMap((item) => item.values));
  const empty = labels.length === 0 || all.length === 0 || all.every((v) => v === 0);
  const ticks = options.ticks
    || (yMax ? niceTicks(Math.max(yMax, ...all)) : niceTicks(Math.max(0, ...all), 4, options.whole));
  const slot = labels.length ? PLOT_W / labels.length : PLOT_W;
  const gap = Math.min(8, slot * 0.2);
  const barW = Math.max(1, (slot - gap) / Math.max(1, series.length));
  const xOf = (index) => MARGIN.left + index * slot + slot / 2;
  const legendNames = series.length > 1 ? series.map((item) => item.name) : null;
  return frame({ ...options, empty, legend: legendNames }, ticks, (plot, y) => {
    xLabels(plot, labels, xOf);
    series.forEach((item, index) => {
      const group = svg('g', { class: 'chart-series series-' + index, 'data-series': item.name });
      item.values.forEach((value, at) => {
        if (typeof value !== 'number' || !Number.isFinite(value)) return;
        const top = Math.min(y(value), y(0) - 1);
        group.append(svg('rect', {
          class: 'chart-bar',
          x: (MARGIN.left + at * slot + gap / 2 + index * barW).toFixed(1),
          y: top.toFixed(1),
          width: barW.toFixed(1),
          height: (y(0) - top).toFixed(1),
        }, svg('title', { text: pointLabel(labels[at], item.name, yFormat(value), at) })));
      });
      plot.append(group);
    });
  });
}
