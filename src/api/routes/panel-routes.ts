import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

/** The panel's files live beside the code (no build step); read once, when the server is built. */
const PANEL_DIR = new URL('../panel/', import.meta.url);
const ASSETS = Object.freeze([
  { path: '/', file: 'index.html', type: 'text/html; charset=utf-8' },
  { path: '/panel/panel.js', file: 'panel.js', type: 'text/javascript; charset=utf-8' },
  { path: '/panel/panel.css', file: 'panel.css', type: 'text/css; charset=utf-8' },
]);

/**
 * The web control panel: one page and its script, served by the API process. The page itself is
 * public; everything it shows comes from the API with the admin token the operator types in.
 */
export function registerPanelRoutes(app: FastifyInstance): void {
  for (const asset of ASSETS) {
    const body = readFileSync(new URL(asset.file, PANEL_DIR));
    app.get(asset.path, { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type(asset.type)
        // The page takes its script from here only, and no other site may frame it.
        .header('content-security-policy', "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'no-cache')
        .send(body),
    );
  }
}
