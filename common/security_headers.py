"""The security headers every HTTP response of the page carries, in one place.

The gateway imports :data:`HEADERS`; the nginx client's template (client/nginx/default.conf.template)
sets the same ones, and a test checks the two agree.

The Content-Security-Policy fits what the page really loads: its own scripts and styles, the
Perspective bundle (``/vendor/perspective-anywidget.js``) which compiles WebAssembly
(``'wasm-unsafe-eval'``) and may start workers from ``blob:`` URLs, inline styles that the viewer's
shadow DOM sets, ``data:`` images and fonts (the favicon is ``data:,``), and the same-origin
WebSocket. Nothing may frame the page.
"""

from __future__ import annotations

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval' blob:",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
