/*
 * What the page says in words: a tile's tooltip (hover) and side panel (click), and the batch's
 * figures in the header (progress, ETA, costs, paused backends).
 */
(function () {
  'use strict';
  const app = (window.openeoDashboard = window.openeoDashboard || {});
  const el = app.el;

  /** A tooltip following the mouse over the tiles, and the side panel of the clicked tile. */
  app.attachTilePanels = function attachTilePanels(tileMap, colours) {
    const tooltip = L.tooltip({ direction: 'top', offset: [0, -6], className: 'tile-tooltip' });
    const panel = document.getElementById('panel');
    let selected;
    // The map gives the panel its room and takes it back: Leaflet must know its new size.
    const resize = () => tileMap.map.invalidateSize({ pan: false });
    const deselect = () => {
      selected = undefined;
      resize();
    };
    const viewOf = (event) => tileMap.tiles.get(event.layer.tileId).view;
    tileMap.group.on('mouseover', (event) => {
      tooltip.setLatLng(event.latlng).setContent(tooltipContent(viewOf(event), colours));
      tileMap.map.openTooltip(tooltip);
    });
    tileMap.group.on('mousemove', (event) => tooltip.setLatLng(event.latlng));
    tileMap.group.on('mouseout', () => tileMap.map.closeTooltip(tooltip));
    tileMap.group.on('click', (event) => {
      selected = event.layer.tileId;
      const wasHidden = panel.hidden;
      showPanel(panel, viewOf(event), colours, deselect);
      if (wasHidden) resize();
    });
    return {
      /** Keeps the open panel current when its tile changed. */
      refresh(changedIds) {
        if (selected !== undefined && changedIds.has(selected))
          showPanel(panel, tileMap.tiles.get(selected).view, colours, deselect);
      },
    };
  };

  function tooltipContent(view, colours) {
    return el(
      'div',
      {},
      el('strong', {}, `tile ${view.tileId}`),
      el('div', {}, app.swatch(colours[view.mapStatus]), statusText(view)),
      view.backend && el('div', {}, `backend ${view.backend}`),
      view.openeoJobId && el('div', { className: 'job-id' }, `job ${view.openeoJobId}`),
      view.error && el('div', { className: 'error-text' }, view.error.code),
    );
  }

  function statusText(view) {
    return view.backendStatus && view.backendStatus !== view.status
      ? `${view.status} (backend: ${view.backendStatus})`
      : view.status;
  }

  function showPanel(panel, view, colours, onClose) {
    const close = el('button', { className: 'close', title: 'close', type: 'button' }, '×');
    close.addEventListener('click', () => {
      panel.hidden = true;
      onClose();
    });
    const table = el(
      'table',
      {},
      panelRows(view, colours)
        .filter(([, value]) => value !== undefined && value !== '')
        .map(([name, value]) => el('tr', {}, el('th', {}, name), el('td', {}, value))),
    );
    panel.replaceChildren(close, el('h2', {}, `tile ${view.tileId}`), table);
    panel.hidden = false;
  }

  /** The side panel's rows, [name, value]; a row whose value is missing is left out. */
  function panelRows(view, colours) {
    return [
      ['status', [app.swatch(colours[view.mapStatus]), view.mapStatus.replace('_', ' ')]],
      ['our status', view.status],
      ['backend status', view.backendStatus],
      ['backend', view.backend],
      ['openEO job', view.openeoJobId],
      ['attempts', String(view.attempts)],
      ['created', app.formatTime(view.createdAt)],
      ['running since', app.formatTime(view.runningAt)],
      ['ended', app.formatTime(view.finishedAt)],
      [
        'run time',
        view.runningAt ? app.formatDuration(app.secondsBetween(view.runningAt, view.finishedAt)) : undefined,
      ],
      ['costs', view.costs !== undefined ? `${app.formatNumber(view.costs)} credits` : undefined],
      ['usage', usageText(view.usage)],
      ['error', view.error && [el('strong', {}, view.error.code), ': ', view.error.message]],
      ['skipped because', view.skipReason],
      [
        'post-processing',
        view.postprocessResult !== undefined ? JSON.stringify(view.postprocessResult).slice(0, 300) : undefined,
      ],
      ['folder', view.outputDir],
      ['files', listOf(view.files, (f) => f)],
      ['checksum not checked', listOf(view.uncheckedChecksums, (u) => `${u.file}: ${u.reason}`)],
      [
        'Temporal UI',
        view.temporalUrl && el('a', { href: view.temporalUrl, target: '_blank', rel: 'noopener' }, view.workflowId),
      ],
    ];
  }

  /** A list of `items` as text, or undefined when there are none. */
  function listOf(items, text) {
    return items && items.length
      ? el(
          'ul',
          {},
          items.map((item) => el('li', {}, text(item))),
        )
      : undefined;
  }

  function usageText(usage) {
    if (!usage) return undefined;
    return Object.entries(usage)
      .map(([name, metric]) => `${name}: ${app.formatNumber(metric.value)} ${metric.unit}`)
      .join(', ');
  }

  function rate(eta) {
    return `${app.formatNumber(eta.tilesPerHour, 0)} tiles/h`;
  }

  /** The header's figures for a summary. */
  app.renderSummary = function renderSummary(summary, mode) {
    document.getElementById('title').textContent = summary.title;
    document.title = `${summary.title} — openeo-temporal`;
    if (mode === 'plan') {
      document
        .getElementById('figures')
        .replaceChildren(el('span', { id: 'done' }, `${app.formatNumber(summary.tileCount, 0)} tiles planned`));
      return;
    }
    const p = summary.progress;
    const total = p ? p.totalTiles : summary.tileCount;
    // The server counts the ended tiles and works out the ETA: the page shows its figures as they are.
    const done = summary.done || 0;
    const share = total > 0 ? done / total : 0;
    const parts = [
      el(
        'span',
        { id: 'done' },
        el('span', { className: 'bar' }, el('div', { style: { width: `${(share * 100).toFixed(1)}%` } })),
        ` ${app.formatNumber(done, 0)} / ${app.formatNumber(total, 0)} tiles done (${(share * 100).toFixed(1)} %)`,
      ),
      p && p.closed ? el('span', {}, 'ended') : undefined,
      p && p.paused ? el('span', { className: 'paused' }, 'paused') : undefined,
      summary.eta ? el('span', { id: 'eta' }, `ETA ${summary.eta.text} (${rate(summary.eta)})`) : undefined,
      el('span', { id: 'costs' }, `costs ${app.formatNumber(summary.costs)} credits`),
      ...Object.entries((p && p.pausedBackends) || {}).map(([backend, reason]) =>
        el('span', { className: 'paused' }, `${backend} paused: ${reason}`),
      ),
    ];
    document.getElementById('figures').replaceChildren(...parts.filter(Boolean));
    const problems = [
      summary.problem,
      p && p.problem && `waiting: ${p.problem}`,
      p && p.failure && `batch failed: ${p.failure.code}: ${p.failure.message}`,
    ].filter(Boolean);
    const banner = document.getElementById('problem');
    banner.textContent = problems.join(' · ');
    banner.hidden = problems.length === 0;
  };
})();
