import { defineConfig } from "vite";

// The build goes straight into the gateway's package: `make run` serves it without npm.
export default defineConfig({
  base: "/",
  build: {
    outDir: "../gateway/static",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: { proxy: { "/v1": "http://127.0.0.1:8000" } },
});
