/**
 * The renderer's Content-Security-Policy, the same in the desktop window (response header of
 * the `app://` protocol and the `<meta>` in index.html) and in the browser (response header of
 * the embedded server). No inline scripts or styles, no eval, nothing from other origins.
 */
export const RENDERER_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "object-src 'none'",
].join('; ');

/** Only a header can forbid framing (browsers ignore `frame-ancestors` in a `<meta>`). */
export const RENDERER_CSP_HEADER = `${RENDERER_CSP}; frame-ancestors 'none'`;
