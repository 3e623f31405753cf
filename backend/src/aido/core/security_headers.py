"""Headers every response carries (OWASP REST Security Cheat Sheet, API8:2023 misconfiguration).

- `X-Content-Type-Options: nosniff`: a browser never runs a JSON error body as script or HTML.
- `X-Frame-Options: DENY` and `Content-Security-Policy: frame-ancestors 'none'`: no page can
  frame the API (or /docs) to trick a click.

Added to the app's answers by `api/edge.py` and to the HTTP server's own error
answers by `http_guard.py`.
"""

SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "frame-ancestors 'none'"),
)
