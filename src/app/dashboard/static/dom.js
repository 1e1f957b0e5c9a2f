/*
 * Small helpers of the map page: building elements (text is always set as text, never as HTML:
 * error messages come from backends) and formatting times, durations and numbers.
 */
(function () {
  'use strict';
  const app = (window.openeoDashboard = window.openeoDashboard || {});

  /** `el('a', { href, className }, 'text', child…)`. */
  app.el = function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null) continue;
      if (key === 'style') Object.assign(node.style, value);
      else if (key in node) node[key] = value;
      else node.setAttribute(key, value);
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  };

  app.swatch = function swatch(colour) {
    return app.el('span', { className: 'swatch', style: { background: colour } });
  };

  /** `2024-06-01T10:00:00.000Z` → local date and time, to the second. */
  app.formatTime = function formatTime(iso) {
    if (!iso) return '';
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
  };

  /** Seconds → `1 h 5 min`, `3 min 20 s`, `12 s`. */
  app.formatDuration = function formatDuration(seconds) {
    if (!(seconds >= 0)) return '';
    const s = Math.round(seconds);
    if (s < 60) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
    return `${Math.floor(s / 86400)} d ${Math.round((s % 86400) / 3600)} h`;
  };

  /** Seconds between two ISO times (the second defaults to now). */
  app.secondsBetween = function secondsBetween(fromIso, toIso) {
    if (!fromIso) return undefined;
    const end = toIso ? Date.parse(toIso) : Date.now();
    return (end - Date.parse(fromIso)) / 1000;
  };

  app.formatNumber = function formatNumber(n, digits) {
    return Number(n).toLocaleString(undefined, { maximumFractionDigits: digits === undefined ? 2 : digits });
  };
})();
