// Builds and serves the diagram demo page on its own (the app's build does not include it):
//   npx vite build --config renderer/src/diagram/vite.demo.config.ts   -> dist/diagram-demo
//   npx vite preview --config renderer/src/diagram/vite.demo.config.ts
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = new URL('.', import.meta.url).pathname;

export default defineConfig({
  root: here,
  base: './',
  plugins: [react()],
  build: {
    outDir: '../../../dist/diagram-demo',
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 3000,
    rollupOptions: { input: { demo: `${here}demo.html` } },
  },
  preview: { port: 4178, strictPort: true, host: '127.0.0.1' },
  server: { port: 4177, strictPort: true, host: '127.0.0.1' },
});
