"""Security headers on every HTTP response: the gateway sets them, the nginx client the same values.

The policy fits what the page really loads (client/index.html, client/js, the Perspective
bundle): scripts, styles and fonts from its own origin; Perspective's wasm compiled from
bytes ('wasm-unsafe-eval', not 'unsafe-eval'); its chunks and workers loaded from blob: URLs
it creates itself (Chromium refuses the page without it: "Loading the script 'blob:...'"); the
viewers' inline styles and data: images; fetch and WebSocket back to the same host only
(CSP Level 3 lets 'self' match ws:/wss: of the page's own host and port). No page may
frame the dashboard.
"""

from __future__ import annotations

from typing import Final

CSP_DIRECTIVES: Final[tuple[tuple[str, str], ...]] = (
    ("default-src", "'self'"),
    ("script-src", "'self' 'wasm-unsafe-eval' blob:"),  # the bundle imports its chunks from blob: URLs
    ("worker-src", "'self' blob:"),
    ("style-src", "'self' 'unsafe-inline'"),  # the viewers inject <style> elements (refused without)
    ("img-src", "'self' data: blob:"),
    ("font-src", "'self' data:"),
    ("connect-src", "'self'"),
    ("object-src", "'none'"),
    ("base-uri", "'none'"),
    ("form-action", "'self'"),
    ("frame-ancestors", "'none'"),
)
CONTENT_SECURITY_POLICY: Final = "; ".join(f"{name} {value}" for name, value in CSP_DIRECTIVES)

SECURITY_HEADERS: Final[dict[str, str]] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
}


def nginx_directives() -> str:
    """The same headers as nginx ``add_header`` lines (``always``: on errors too)."""
    return "\n".join(f'add_header {name} "{value}" always;' for name, value in SECURITY_HEADERS.items())


if __name__ == "__main__":  # python -m common.security > security_headers.conf (for nginx)
    print(nginx_directives())
