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

// A few links in GraphiQL and the explorer point to project sites (the
// logo, the editor's manual, the explorer's attribution). City networks
// cannot reach them, and the page must name nothing outside the hub, so
// they are built as plain text.
const dropOutsideLinks = {
  name: 'hub-drop-outside-links',
  transform(code, id) {
    if (!id.includes('node_modules') || !/\.m?js$/.test(id)) return null;
    const out = code.replace(/\bhref:\s*(["'`])https?:\/\/[^"'`]*\1/g, 'href: undefined');
    return out === code ? null : { code: out, map: null };
  },
};

export default defineConfig({
  // Relative asset URLs: the page also works behind a proxy that serves the
  // hub under a path prefix.
  base: './',
  logLevel: 'warn',
  plugins: [dropFontFaces, dropOutsideLinks],
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
