// Builds the playground into web/playground/dist, which the hub embeds
// (go:embed) and serves at GET /; the bundled packages' licences are written
// beside it as playground/LICENSES.md.
import { defineConfig } from 'vite';

// GraphiQL's stylesheet carries its Roboto and Fira Code faces inline (about
// 300 kB); the page uses the system's fonts (Chinese faces included, see
// src/hub.css), so the faces are dropped from the bundle.
const dropFontFaces = {
  name: 'hub-drop-font-faces',
  enforce: 'pre',
  transform(code, id) {
    if (!/[\\/]graphiql[\\/]dist[\\/]style\.css$/.test(id)) return null;
    return { code: code.replace(/@font-face\s*\{[^}]*\}/g, ''), map: null };
  },
};

export default defineConfig({
  base: '/',
  logLevel: 'warn',
  plugins: [dropFontFaces],
  build: {
    outDir: '../web/playground/dist',
    emptyOutDir: true,
    assetsDir: 'playground',
    assetsInlineLimit: 0,
    sourcemap: false,
    chunkSizeWarningLimit: 4096,
    license: { fileName: 'playground/LICENSES.md' },
    rolldownOptions: {
      onwarn(warning, warn) {
        // framer-motion's "use client" markers mean nothing in a browser bundle.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
});
