// Serves the allow-list editor's demo page alone (demo.html), not part of the app's build:
//   npx vite --config renderer/src/allow-list/vite.demo.config.ts   -> http://127.0.0.1:5181/demo.html
// Production timings: `npx vite build --config … --outDir /tmp/ale-demo` then `npx vite preview --config …`.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = new URL('.', import.meta.url).pathname;

export default defineConfig({
  root,
  base: './',
  // Its own dependency cache, so other dev servers of the repo never invalidate this one's.
  cacheDir: new URL('../../../node_modules/.vite-allow-list-demo', import.meta.url).pathname,
  plugins: [react()],
  server: { port: 5181, strictPort: true, host: '127.0.0.1' },
  preview: { port: 5182, strictPort: true, host: '127.0.0.1' },
  build: { outDir: '/tmp/ale-demo', emptyOutDir: true, rollupOptions: { input: `${root}demo.html` } },
  logLevel: 'warn',
});
