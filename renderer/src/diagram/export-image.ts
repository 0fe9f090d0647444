// "Export PNG / SVG": the React Flow viewport drawn at scale 1 (smaller only past what a canvas
// holds), downloaded through a blob URL. No fetch(): the app's CSP has connect-src 'none'.
import { toBlob, toSvg } from 'html-to-image';

export type ImageKind = 'png' | 'svg';

const PAD = 24;
/** Chromium's canvas side limit is 32,767 px and its area ~268 M px; stay well inside. */
const MAX_SIDE = 16_000;
const MAX_AREA = 100e6;

export interface ExportSize {
  readonly width: number;
  readonly height: number;
  readonly scale: number;
  readonly pixelRatio: number;
}

/** The picture's size in CSS px and its pixel ratio, for a graph of `width` x `height`. */
export function exportSize(width: number, height: number, kind: ImageKind): ExportSize {
  const scale = Math.min(1, MAX_SIDE / (width + 2 * PAD), MAX_SIDE / (height + 2 * PAD));
  const w = Math.ceil((width + 2 * PAD) * scale);
  const h = Math.ceil((height + 2 * PAD) * scale);
  const pixelRatio =
    kind === 'svg'
      ? 1
      : Math.max(0.25, Math.min(2, MAX_SIDE / Math.max(w, h), Math.sqrt(MAX_AREA / (w * h))));
  return { width: w, height: h, scale, pixelRatio };
}

/** What a cloned <svg> loses: html-to-image copies an <svg> as is, without its CSS rules. */
const SVG_STYLE = ['stroke', 'stroke-width', 'stroke-dasharray', 'fill', 'opacity', 'filter'] as const;

/**
 * Writes the computed SVG paint of every element inside the <svg>s under `root` into its style
 * attribute, so that the picture keeps the theme's colours; returns the undo.
 */
export function inlineSvgStyles(root: Element): () => void {
  const saved: [SVGElement, string | null][] = [];
  for (const el of root.querySelectorAll<SVGElement>('svg *')) {
    const computed = getComputedStyle(el);
    saved.push([el, el.getAttribute('style')]);
    for (const prop of SVG_STYLE) el.style.setProperty(prop, computed.getPropertyValue(prop));
  }
  return () => {
    for (const [el, style] of saved) {
      if (style === null) el.removeAttribute('style');
      else el.setAttribute('style', style);
    }
  };
}

/**
 * Paints the whole SVG picture's background: html-to-image paints it on the (shifted) viewport
 * only, which would leave the padding transparent.
 */
export function withBackground(svg: string, color: string): string {
  const open = /<svg\b[^>]*>/.exec(svg);
  if (!open) return svg;
  const at = open.index + open[0].length;
  const safe = color.replace(/["<>&]/g, '');
  return `${svg.slice(0, at)}<rect width="100%" height="100%" fill="${safe}"/>${svg.slice(at)}`;
}

export async function renderImage(
  viewport: HTMLElement,
  graph: { readonly width: number; readonly height: number },
  kind: ImageKind,
  background: string,
): Promise<Blob> {
  const size = exportSize(graph.width, graph.height, kind);
  const options = {
    backgroundColor: background,
    width: size.width,
    height: size.height,
    pixelRatio: size.pixelRatio,
    skipFonts: true,
    style: {
      width: `${size.width}px`,
      height: `${size.height}px`,
      transform: `translate(${PAD * size.scale}px, ${PAD * size.scale}px) scale(${size.scale})`,
    },
  };
  const undo = inlineSvgStyles(viewport);
  try {
    if (kind === 'png') {
      const blob = await toBlob(viewport, options);
      if (!blob) throw new Error('the browser could not encode the PNG');
      return blob;
    }
    const dataUrl = await toSvg(viewport, options);
    const comma = dataUrl.indexOf(',');
    const svg = withBackground(decodeURIComponent(dataUrl.slice(comma + 1)), background);
    return new Blob([svg], { type: 'image/svg+xml' });
  } finally {
    undo();
  }
}

/** Saves a blob under `fileName` through a temporary <a download>. */
export function download(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  // Revoked later: some browsers read the URL after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
