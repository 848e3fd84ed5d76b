// The web clients' build: three pages (host console, viewer, operations), one bundle set,
// everything from npm (no CDN at run time). `make web` runs it; output in web/dist.
import { resolve } from 'node:path'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

const here = import.meta.dirname

export default defineConfig({
  root: here,
  base: '/',
  plugins: [vue()],
  define: {
    // vue-i18n's esm-bundler flags: composition API only, no legacy API, no devtools in the bundle
    __VUE_I18N_FULL_INSTALL__: true,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
    __VUE_PROD_DEVTOOLS__: false,
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: false,
  },
  build: {
    outDir: resolve(here, 'dist'),
    emptyOutDir: true,
    assetsDir: 'web-assets',      // served beside the pages under the API's origin: /web-assets/*
    chunkSizeWarningLimit: 1500,  // echarts is big; it only loads on the console and ops pages
    rollupOptions: {
      input: {
        console: resolve(here, 'console/index.html'),
        watch: resolve(here, 'watch/index.html'),
        ops: resolve(here, 'ops/index.html'),
      },
    },
  },
})
