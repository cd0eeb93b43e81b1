"""The common security headers (common/security.py) on every response of every handler.

``set_default_headers`` runs again whenever Tornado clears a response, so error pages,
404s and refused WebSocket upgrades carry them too.
"""

from __future__ import annotations

import tornado.web

from common.security import SECURITY_HEADERS


class SecureHeaders(tornado.web.RequestHandler):
    def set_default_headers(self) -> None:
        super().set_default_headers()
        for name, value in SECURITY_HEADERS.items():
            self.set_header(name, value)
