import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `base: './'` so the same bundle loads from file:// (Electron) and from the web host.
export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react()],
  build: { outDir: '../dist/renderer', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1500 },
});
