"""The security headers, as the gateway sends them and as nginx lines for the static client."""

from __future__ import annotations

import re

from common.security import CONTENT_SECURITY_POLICY, SECURITY_HEADERS, nginx_directives


def test_nginx_lines_carry_every_header_once_on_every_status() -> None:
    lines = nginx_directives().splitlines()
    parsed = [re.fullmatch(r'add_header (\S+) "([^"]*)" always;', line) for line in lines]
    assert all(parsed)
    assert {m.group(1): m.group(2) for m in parsed if m} == SECURITY_HEADERS


def test_the_policy_names_each_directive_once_and_forbids_framing() -> None:
    names = [directive.split(" ", 1)[0] for directive in CONTENT_SECURITY_POLICY.split("; ")]
    assert len(names) == len(set(names))
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY.split("; ")
    assert SECURITY_HEADERS["X-Frame-Options"] == "DENY"
