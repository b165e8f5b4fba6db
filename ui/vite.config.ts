import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The Tauri shell embeds `ui/dist` (tauri.conf.json `frontendDist`) and serves
// it from its own protocol, so asset URLs are relative and nothing is fetched
// from elsewhere (the CSP is `default-src 'self'`).
export default defineConfig(({ mode }) => ({
  base: './',
  plugins: [svelte()],
  clearScreen: false,
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
  },
  // IMPORTANT: under Vitest (mode "test") Svelte must resolve to its browser
  // build, else `mount` resolves to the server build and throws.
  resolve: mode === 'test' ? { conditions: ['browser'] } : undefined,
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    setupFiles: ['src/test-setup.ts'],
    restoreMocks: true,
  },
}));
