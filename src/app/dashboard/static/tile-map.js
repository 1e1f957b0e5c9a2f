/*
 * The map: one polygon per tile, drawn on a canvas (Leaflet's canvas renderer keeps 10,000 tiles
 * quick without a GPU) and filled with its status colour; a legend with the counts; and the
 * quicklooks of finished tiles in view, laid over their tiles.
 */
(function () {
  'use strict';
  const app = (window.openeoDashboard = window.openeoDashboard || {});

  /** Preview images shown at once at most (each up to 512 × 512 px); with more in view the legend says to zoom in. */
  const MAX_PREVIEWS = 150;

  /** The map of a batch's tiles: `apply` takes in tiles as they come, `counts` says how many have each status. */
  app.createTileMap = function createTileMap(element, config) {
    const map = createMap(element, config);
    const outlines = createOutlines(map, config);
    const legend = createLegend(map, config.colours);
    const previews = createPreviews(map, outlines.tiles, legend);
    let framed = false;
    map.on('moveend', previews.schedule);
    legend.onPreviewsToggle(previews.switchTo);

    return {
      map,
      group: outlines.group,
      tiles: outlines.tiles,
      /** Takes in a snapshot's or an update's tiles. */
      apply(views) {
        // Framed before they are drawn, so 10,000 outlines are projected once, not again for the new view.
        if (!framed) framed = frame(map, views);
        for (const view of views) outlines.upsert(view);
        legend.update(outlines.counts());
        previews.schedule();
      },
      counts: outlines.counts,
    };
  };

  /** The Leaflet map, with the basemap if there is one and a pane for the previews. */
  function createMap(element, config) {
    const map = L.map(element, { preferCanvas: true, zoomSnap: 0.25, attributionControl: Boolean(config.basemap) });
    if (config.basemap) L.tileLayer(config.basemap, { maxZoom: 19 }).addTo(map);
    map.setView([30, 0], 2);
    // Previews lie above the tiles but let the mouse through to them (tooltips, clicks).
    map.createPane('previews').style.zIndex = 450;
    return map;
  }

  /**
   * The tiles' outlines on one canvas, filled with their status colours. `tiles` holds each
   * tile's latest view and its polygon, by tile id.
   */
  function createOutlines(map, config) {
    const renderer = L.canvas({ padding: 0.3 });
    const group = L.featureGroup().addTo(map);
    // Over a basemap the tiles let it show through; on the plain background they are opaque.
    const fillOpacity = config.basemap ? 0.55 : 1;
    const tiles = new Map();

    function style(view) {
      return {
        renderer,
        color: '#ffffff',
        weight: 0.6,
        opacity: 0.9,
        fillColor: config.colours[view.mapStatus],
        fillOpacity,
      };
    }

    /** Draws a tile, or updates one already drawn (changed rows come without their outline). */
    function upsert(view) {
      const known = tiles.get(view.tileId);
      if (known) {
        const merged = Object.assign({}, view, { geometry: known.view.geometry });
        if (known.view.mapStatus !== view.mapStatus) known.layer.setStyle(style(view));
        known.view = merged;
        return;
      }
      if (!view.geometry) return;
      const layer = L.polygon(latLngsOf(view.geometry), style(view));
      layer.tileId = view.tileId;
      tiles.set(view.tileId, { view, layer });
      group.addLayer(layer);
    }

    function counts() {
      const byStatus = {};
      for (const { view } of tiles.values()) byStatus[view.mapStatus] = (byStatus[view.mapStatus] || 0) + 1;
      return byStatus;
    }

    return { group, tiles, upsert, counts };
  }

  function latLngsOf(geometry) {
    return L.GeoJSON.coordsToLatLngs(geometry.coordinates, geometry.type === 'MultiPolygon' ? 2 : 1);
  }

  /**
   * Frames the first tiles, once (later the user's view is kept). Returns false when none of
   * them has an outline yet, so the next ones are framed instead.
   */
  function frame(map, views) {
    let [west, south, east, north] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const view of views) {
      if (!view.geometry) continue;
      const rings =
        view.geometry.type === 'MultiPolygon' ? view.geometry.coordinates.flat() : view.geometry.coordinates;
      for (const ring of rings) {
        for (const [lon, lat] of ring) {
          west = Math.min(west, lon);
          east = Math.max(east, lon);
          south = Math.min(south, lat);
          north = Math.max(north, lat);
        }
      }
    }
    if (west > east) return false;
    map.fitBounds(
      [
        [south, west],
        [north, east],
      ],
      { padding: [20, 20], animate: false },
    );
    return true;
  }

  /**
   * The quicklooks of finished tiles in view, laid over their tiles; the legend's switch turns
   * them off. Refreshed at most once a frame, however often the map moves or tiles change.
   */
  function createPreviews(map, tiles, legend) {
    const previewLayer = L.layerGroup().addTo(map);
    const overlays = new Map();
    let previewsOn = true;
    let queued = false;

    /** Shows the previews of finished tiles in view (none when there are too many to show). */
    function refresh() {
      const inView = map.getBounds();
      const wanted = previewsOn
        ? [...tiles.values()].filter((t) => t.view.preview && inView.intersects(boundsOf(t.view.preview)))
        : [];
      const shown = wanted.length <= MAX_PREVIEWS ? wanted : [];
      const keep = new Map(shown.map((t) => [t.view.tileId, t.view.preview]));
      for (const [id, overlay] of overlays) {
        if (keep.get(id) && keep.get(id).url === overlay.url) continue;
        previewLayer.removeLayer(overlay.layer);
        overlays.delete(id);
      }
      for (const [id, preview] of keep) {
        if (overlays.has(id)) continue;
        const layer = L.imageOverlay(preview.url, boundsOf(preview), {
          pane: 'previews',
          interactive: false,
          className: 'preview',
          alt: `quicklook of tile ${id}`,
        });
        overlays.set(id, { url: preview.url, layer });
        previewLayer.addLayer(layer);
      }
      legend.note(wanted.length > MAX_PREVIEWS ? `${wanted.length} previews in view: zoom in to see them` : '');
    }

    return {
      schedule() {
        if (queued) return;
        queued = true;
        requestAnimationFrame(() => {
          queued = false;
          refresh();
        });
      },
      switchTo(on) {
        previewsOn = on;
        refresh();
      },
    };
  }

  function boundsOf(preview) {
    const [west, south, east, north] = preview.bounds;
    return L.latLngBounds([south, west], [north, east]);
  }

  /** The legend: each status's colour and how many tiles have it; a switch for the previews. */
  function createLegend(map, colours) {
    const control = L.control({ position: 'bottomright' });
    const rows = {};
    const note = app.el('div', { className: 'note' });
    const toggle = app.el('input', { type: 'checkbox', checked: true, id: 'previews-toggle' });
    control.onAdd = () => {
      const box = app.el('div', { className: 'legend' });
      for (const [status, colour] of Object.entries(colours)) {
        rows[status] = app.el('span', { className: 'count' }, '0');
        box.append(
          app.el('div', { 'data-status': status }, app.swatch(colour), status.replace('_', ' '), rows[status]),
        );
      }
      box.append(app.el('label', {}, toggle, ' result previews'), note);
      L.DomEvent.disableClickPropagation(box);
      return box;
    };
    control.addTo(map);
    return {
      update(counts) {
        for (const [status, node] of Object.entries(rows)) node.textContent = app.formatNumber(counts[status] || 0, 0);
      },
      note(text) {
        note.textContent = text;
      },
      onPreviewsToggle(listener) {
        toggle.addEventListener('change', () => listener(toggle.checked));
      },
    };
  }
})();
