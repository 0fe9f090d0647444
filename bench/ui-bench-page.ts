// The in-page half of `npm run bench:ui`: scripts that run inside the page, as strings, so that
// no bundler helper (tsx's __name) ends up in code the browser runs. Everything is timed with the
// page's own clock (performance.now, User Timing, PerformanceObserver, MutationObserver).

/**
 * Runs before any of the page's scripts (context.addInitScript): long tasks, Event Timing entries
 * (input to next paint), User Timing measures, React commits (through the hook React DevTools
 * uses; production builds call it on every commit) with the frame after each, WebSocket send and
 * receive times and sizes, and when the first screen's control appears.
 */
export const INIT_SCRIPT = `(() => {
  const now = () => performance.now();
  const npg = (window.__npg = { lt: [], ev: [], measures: [], commits: [], ws: [], seen: {} });
  const observe = (type, opts, fn) => {
    try { new PerformanceObserver((l) => { for (const e of l.getEntries()) fn(e); }).observe({ type, buffered: true, ...opts }); }
    catch (err) { npg['no-' + type] = String(err); }
  };
  observe('longtask', {}, (e) => npg.lt.push({ s: e.startTime, d: e.duration }));
  observe('event', { durationThreshold: 16 }, (e) =>
    npg.ev.push({ n: e.name, s: e.startTime, ps: e.processingStart, pe: e.processingEnd, d: e.duration }));
  observe('measure', {}, (e) => npg.measures.push({ n: e.name, s: e.startTime, d: e.duration }));
  // The frame after a moment: requestAnimationFrame runs before the frame's style, layout and
  // paint; a task queued from it runs after them.
  const afterFrame = (fn) => requestAnimationFrame(() => setTimeout(() => fn(now()), 0));
  window.__REACT_DEVTOOLS_GLOBAL_HOOK__ = {
    supportsFiber: true,
    renderers: new Map(),
    inject() { return 1; },
    checkDCE() {},
    onScheduleFiberRoot() {},
    onCommitFiberUnmount() {},
    onPostCommitFiberRoot() {},
    onCommitFiberRoot() {
      const c = { t: now(), f: null };
      npg.commits.push(c);
      afterFrame((t) => { c.f = t; });
    },
  };
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    // A file goes as one binary frame (wire.ts encodeFileCall): count its bytes too.
    npg.ws.push({ k: 'send', t: now(), n: typeof data === 'string' ? data.length : (data.byteLength ?? data.size ?? 0) });
    return send.call(this, data);
  };
  const onmessage = Object.getOwnPropertyDescriptor(WebSocket.prototype, 'onmessage');
  Object.defineProperty(WebSocket.prototype, 'onmessage', {
    configurable: true,
    enumerable: onmessage.enumerable,
    get() { return onmessage.get.call(this); },
    set(fn) {
      onmessage.set.call(this, typeof fn !== 'function' ? fn : function (ev) {
        const t = now();
        try { return fn.call(this, ev); }
        finally { npg.ws.push({ k: 'recv', t, done: now(), n: typeof ev.data === 'string' ? ev.data.length : 0 }); }
      });
    },
  });
  // The first screen's control (new UI: the start screen's 'Load a dump' button; the baseline:
  // its file input), then stop watching.
  const first = '[data-testid="open-dump"],[data-testid="dump-file"]';
  const mo = new MutationObserver(() => {
    if (npg.seen.control !== undefined || !document.querySelector(first)) return;
    npg.seen.control = now();
    mo.disconnect();
    afterFrame((t) => { npg.seen.controlFrame = t; });
  });
  mo.observe(document, { childList: true, subtree: true });
})();`;

/** The start page's figures, once its control is there and a quiet moment has passed. */
export const READ_START = `(() => {
  const npg = window.__npg;
  const nav = performance.getEntriesByType('navigation')[0];
  const paint = Object.fromEntries(performance.getEntriesByType('paint').map((e) => [e.name, e.startTime]));
  return { fp: paint['first-paint'] ?? null, fcp: paint['first-contentful-paint'] ?? null,
    dcl: nav ? nav.domContentLoadedEventEnd : null, load: nav ? nav.loadEventEnd : null,
    responseEnd: nav ? nav.responseEnd : null,
    control: npg.seen.control ?? null, controlFrame: npg.seen.controlFrame ?? null, lt: npg.lt.slice(),
    noLongtask: npg['no-longtask'] ?? null };
})()`;

/** Arms file-to-list: the file input's change event, then the first NodePort row in the DOM. */
export const ARM_FILE = `(() => {
  const f = (window.__ftl = { t0: null, row: null, frame: null, ws0: window.__npg.ws.length, c0: window.__npg.commits.length });
  addEventListener('change', (e) => {
    if (f.t0 === null && e.target instanceof Element && e.target.getAttribute('data-testid') === 'dump-file') f.t0 = performance.now();
  }, true);
  const rows = '[data-testid^="nodeport-tcp/"],[data-testid^="nodeport-udp/"]';
  const mo = new MutationObserver(() => {
    if (f.t0 === null || f.row !== null || !document.querySelector(rows)) return;
    f.row = performance.now();
    mo.disconnect();
    requestAnimationFrame(() => setTimeout(() => { f.frame = performance.now(); }, 0));
  });
  mo.observe(document.body, { childList: true, subtree: true });
})()`;

/** File-to-list's figures: the times above, the WebSocket exchange in between, the list's size. */
export const READ_FILE = `(() => {
  const f = window.__ftl;
  const ws = window.__npg.ws.slice(f.ws0).filter((m) => m.t >= f.t0);
  const send = ws.filter((m) => m.k === 'send').sort((a, b) => b.n - a.n)[0] ?? null;
  const recv = ws.filter((m) => m.k === 'recv' && send && m.t >= send.t).sort((a, b) => b.n - a.n)[0] ?? null;
  const input = document.querySelector('[data-testid="nodeport-filter"]') ?? document.querySelector('nav.np-list input');
  const summary = document.querySelector('[data-testid="summary"]');
  return { t0: f.t0, row: f.row, frame: f.frame, send, recv, placeholder: input ? input.placeholder : null,
    summary: summary ? summary.textContent : null, lt: window.__npg.lt.slice() };
})()`;

/** Arms the filter's keystroke timing once: a keydown listener and the list's MutationObserver. */
export const ARM_FILTER = `(() => {
  addEventListener('keydown', (e) => {
    const k = window.__kt;
    if (k && k.t0 === null) { k.t0 = performance.now(); k.ts = e.timeStamp; }
  }, true);
  const nav = document.querySelector('nav.np-list');
  const input = nav.querySelector('input');
  new MutationObserver((recs) => {
    const k = window.__kt;
    if (!k || k.t0 === null || recs.every((r) => r.target === input)) return;
    k.muts += recs.length;
    k.lastMut = performance.now();
  }).observe(nav, { childList: true, subtree: true, attributes: true, characterData: true });
})()`;

/** Before each keystroke. */
export const ARM_KEY = `(() => { window.__kt = { t0: null, ts: null, muts: 0, lastMut: null, c0: window.__npg.commits.length }; })()`;

/**
 * After each keystroke: waits until the page is idle (no new React commit across an idle callback
 * and 100 ms, and the frame after the last commit has run), then returns the keystroke's figures.
 */
export const SETTLE_KEY = `new Promise((resolve) => {
  const npg = window.__npg;
  const k = window.__kt;
  let seen = -1;
  let done = false;
  const finish = (timedOut) => {
    if (done) return;
    done = true;
    const cs = npg.commits.slice(k.c0).filter((c) => k.t0 !== null && c.t >= k.t0);
    const last = cs[cs.length - 1];
    const start = k.ts !== null && k.ts > 0 && k.ts <= k.t0 ? k.ts : k.t0;
    const ev = npg.ev.filter((e) => (e.n === 'keydown' || e.n === 'input' || e.n === 'keypress') && e.s >= start - 1 && e.s <= start + 1000);
    const scroll = document.querySelector('.np-scroll');
    const shown = scroll ? Number((scroll.getAttribute('aria-label') || '').split(' ')[0])
      : document.querySelectorAll('nav.np-list li').length;
    resolve({ t0: k.t0, ts: k.ts, start, commits: cs.length, firstCommit: cs[0] ? cs[0].t : null,
      lastCommit: last ? last.t : null, frame: last ? last.f : null, muts: k.muts, lastMut: k.lastMut,
      echo: ev.length ? Math.max(...ev.map((e) => e.d)) : null, shown, timedOut,
      value: (document.querySelector('nav.np-list input') || {}).value });
  };
  const step = () => requestIdleCallback(() => {
    const n = npg.commits.length;
    const last = npg.commits[n - 1];
    if (n === seen && (!last || last.f !== null)) return finish(false);
    seen = n;
    setTimeout(step, 100);
  });
  setTimeout(() => finish(true), 20000);
  step();
})`;

/** Arms a diagram open: the time of the click on a row. */
export const ARM_CLICK = `(() => {
  const d = (window.__dg = { t0: null, m0: window.__npg.measures.length });
  addEventListener('pointerdown', () => { if (d.t0 === null) d.t0 = performance.now(); }, { capture: true, once: true });
})()`;

/** True once the diagram opened after the click has recorded its layout+paint measure. */
export const DIAGRAM_DONE = (measure: string): string => `(() => {
  const d = window.__dg;
  return d.t0 !== null && window.__npg.measures.slice(d.m0).some((m) => m.n === ${JSON.stringify(measure)} && m.s >= d.t0);
})()`;

export const READ_DIAGRAM = (measure: string, layoutOnly: string): string => `(() => {
  const d = window.__dg;
  const ms = window.__npg.measures.slice(d.m0).filter((m) => m.s >= d.t0);
  const lp = ms.find((m) => m.n === ${JSON.stringify(measure)}) ?? null;
  const lo = ms.find((m) => m.n === ${JSON.stringify(layoutOnly)}) ?? null;
  const el = document.querySelector('.diagram[data-layout-ms]');
  return { t0: d.t0, layoutPaint: lp, layout: lo, attr: el ? Number(el.getAttribute('data-layout-ms')) : null,
    engine: el ? el.getAttribute('data-layout') : null,
    nodes: document.querySelectorAll('.dg-node, .react-flow__node').length, lt: window.__npg.lt.slice() };
})()`;
