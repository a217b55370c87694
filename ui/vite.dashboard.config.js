// Builds the reference dashboard (dashboard/) into web/dashboard/dist, which
// the hub embeds (go:embed) and serves at GET /dashboard/; the bundled
// packages' licences are written beside it as assets/LICENSES.md.
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'dashboard',
  base: '/dashboard/',
  logLevel: 'warn',
  build: {
    outDir: '../../web/dashboard/dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    assetsInlineLimit: 0,
    sourcemap: false,
    chunkSizeWarningLimit: 4096,
    license: { fileName: 'assets/LICENSES.md' },
  },
});
