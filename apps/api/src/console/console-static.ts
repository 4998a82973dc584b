import express, { type NextFunction, type Request, type Response } from 'express';
import fs from 'node:fs';
import path from 'node:path';

/** Where `npm run build` puts the console: apps/console/dist, from apps/api/{src,dist}/console. */
export const CONSOLE_DIST = path.resolve(__dirname, '..', '..', '..', 'console', 'dist');

/** Vite names every file under assets/ by its content hash: a new build never reuses a name. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** index.html names the current assets, so the browser must revalidate it on every load. */
const REVALIDATE = 'no-cache';

/**
 * The console keeps its Bearer token in sessionStorage, so script injection is what to fear: it
 * loads only its own files and talks only to this origin (no inline script or style is built).
 */
const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

/**
 * Serves the built console: files as they are, hashed assets cached for a year, and index.html
 * for every other path under /console (deep links such as /console/runs/{id} are routed in the
 * browser). A missing asset is a 404, never index.html, so a stale page fails visibly.
 */
export function consoleStaticMiddleware(dist: string) {
  const files = express.static(dist, {
    index: false,
    fallthrough: true,
    setHeaders(res, file) {
      res.setHeader('Cache-Control', path.basename(path.dirname(file)) === 'assets' ? IMMUTABLE : REVALIDATE);
    },
  });
  const indexFile = path.join(dist, 'index.html');

  return function consoleStatic(req: Request, res: Response, next: NextFunction): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    // Mounted by path pattern, Express leaves req.url whole: serve relative to /console.
    const relative = req.originalUrl.replace(/^\/console(?=\/|\?|$)/, '') || '/';
    const original = req.url;
    req.url = relative;
    files(req, res, (err?: unknown) => {
      req.url = original;
      if (err) return next(err);
      const pathname = relative.split('?')[0];
      if (pathname.startsWith('/assets/')) {
        res.status(404).json({ statusCode: 404, error: 'Not Found', message: `no console asset ${pathname}` });
        return;
      }
      if (!fs.existsSync(indexFile)) {
        res.status(404).json({ statusCode: 404, error: 'Not Found', message: 'the console is not built: run npm run build' });
        return;
      }
      res.setHeader('Cache-Control', REVALIDATE);
      res.sendFile(indexFile);
    });
  };
}
