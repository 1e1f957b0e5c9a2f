/*
 * The map page's start: asks the dashboard what to show, then either lists the batches to choose
 * from or opens the batch's event stream (a snapshot, then only what changed) and keeps the map
 * and figures current without reloading.
 */
(function () {
  'use strict';
  const app = (window.openeoDashboard = window.openeoDashboard || {});
  const el = app.el;
  /**
   * What the page received, for anyone curious (the tests and the bench read it): counts of
   * events, when the first snapshot arrived and when its tiles were painted (ms after navigation).
   */
  app.stats = { snapshots: 0, updates: 0, snapshotMs: undefined, firstPaintMs: undefined };

  async function boot() {
    const config = await (await fetch('api/config')).json();
    const batchId = config.batchId || new URLSearchParams(location.search).get('batch');
    if (!batchId) return showBatchList();
    const tileMap = app.createTileMap(document.getElementById('map'), config);
    const panels = app.attachTilePanels(tileMap, config.colours);
    app.tileMap = tileMap;
    watch(batchId, config, tileMap, panels);
  }

  function watch(batchId, config, tileMap, panels) {
    const live = document.getElementById('live');
    const events = new EventSource(`api/batches/${encodeURIComponent(batchId)}/events`);
    const apply = (message, kind) => {
      if (app.stats.snapshotMs === undefined) app.stats.snapshotMs = performance.now();
      const data = JSON.parse(message.data);
      tileMap.apply(data.tiles);
      panels.refresh(new Set(data.tiles.map((t) => t.tileId)));
      app.renderSummary(data.summary, config.mode);
      app.stats[kind === 'snapshot' ? 'snapshots' : 'updates']++;
      const updated = new Date(data.summary.updatedAt).toLocaleTimeString();
      live.textContent = config.mode === 'plan' ? `plan: ${tileMap.tiles.size} tiles` : `live · updated ${updated}`;
      live.className = 'live';
      if (app.stats.firstPaintMs === undefined && tileMap.tiles.size > 0) markFirstPaint();
    };
    events.addEventListener('snapshot', (message) => apply(message, 'snapshot'));
    events.addEventListener('update', (message) => apply(message, 'update'));
    events.addEventListener('error', () => {
      // The browser reconnects by itself (the server then sends a fresh snapshot), unless the
      // dashboard answered that it stopped.
      live.textContent =
        events.readyState === EventSource.CLOSED
          ? 'the dashboard stopped: reload the page once it runs again'
          : 'connection lost: reconnecting…';
      live.className = 'live down';
    });
  }

  /** Notes when the first tiles were on screen: two frames after drawing them, they were painted. */
  function markFirstPaint() {
    app.stats.firstPaintMs = null;
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        app.stats.firstPaintMs = performance.now();
        performance.mark('openeo-tiles-painted');
      }),
    );
  }

  async function showBatchList() {
    document.getElementById('main').hidden = true;
    document.getElementById('live').textContent = '';
    const section = document.getElementById('batches');
    section.hidden = false;
    const batches = await (await fetch('api/batches')).json();
    const rows = batches.map((b) =>
      el(
        'tr',
        {},
        el('td', {}, el('a', { href: `?batch=${encodeURIComponent(b.batchId)}` }, b.batchId)),
        el('td', {}, b.status),
        el('td', {}, app.formatTime(b.startTime)),
        el('td', {}, app.formatTime(b.closeTime)),
      ),
    );
    section
      .querySelector('tbody')
      .replaceChildren(
        ...(rows.length ? rows : [el('tr', {}, el('td', { colSpan: 4 }, 'no batches in this namespace yet'))]),
      );
  }

  boot().catch((err) => {
    const banner = document.getElementById('problem');
    banner.textContent = `the page could not start: ${err && err.message ? err.message : err}`;
    banner.hidden = false;
  });
})();
