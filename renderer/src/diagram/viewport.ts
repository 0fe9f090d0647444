// Where the diagram opens: all of it when it can be read that way, otherwise its start (where the
// packet enters, top left) at a zoom that still reads; the minimap and "fit view" show the rest.

export interface InitialViewport {
  readonly x: number;
  readonly y: number;
  readonly zoom: number;
  /** The whole graph is in view. */
  readonly fitsAll: boolean;
}

export const VIEW_PAD = 24;
/** At the bottom, room for the zoom controls (a row of buttons in the bottom-left corner). */
export const CONTROLS_PAD = 56;
/** Below this zoom, 11 px labels stop being readable. */
export const READABLE_ZOOM = 0.6;
export const MAX_INITIAL_ZOOM = 1;

export function initialViewport(
  graph: { readonly width: number; readonly height: number },
  pane: { readonly width: number; readonly height: number },
): InitialViewport {
  const w = Math.max(1, graph.width);
  const h = Math.max(1, graph.height);
  const availW = Math.max(1, pane.width - 2 * VIEW_PAD);
  const availH = Math.max(1, pane.height - VIEW_PAD - CONTROLS_PAD);
  const fit = Math.min(availW / w, availH / h);
  if (fit >= READABLE_ZOOM) {
    const zoom = Math.min(fit, MAX_INITIAL_ZOOM);
    return { x: (pane.width - w * zoom) / 2, y: VIEW_PAD + (availH - h * zoom) / 2, zoom, fitsAll: true };
  }
  const zoom = Math.min(MAX_INITIAL_ZOOM, Math.max(READABLE_ZOOM, availW / w));
  const x = w * zoom <= availW ? (pane.width - w * zoom) / 2 : VIEW_PAD;
  const y = h * zoom <= availH ? VIEW_PAD + (availH - h * zoom) / 2 : VIEW_PAD;
  return { x, y, zoom, fitsAll: false };
}

/** "Fit view": all of the graph in the pane, centred, at any zoom down to `minZoom`. */
export function fitAllViewport(
  graph: { readonly width: number; readonly height: number },
  pane: { readonly width: number; readonly height: number },
  minZoom: number,
): InitialViewport {
  const w = Math.max(1, graph.width);
  const h = Math.max(1, graph.height);
  const availW = Math.max(1, pane.width - 2 * VIEW_PAD);
  const availH = Math.max(1, pane.height - VIEW_PAD - CONTROLS_PAD);
  const zoom = Math.max(minZoom, Math.min(MAX_INITIAL_ZOOM, availW / w, availH / h));
  return { x: (pane.width - w * zoom) / 2, y: VIEW_PAD + (availH - h * zoom) / 2, zoom, fitsAll: true };
}
