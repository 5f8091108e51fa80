"""Query parameters whose defaults and bounds two places need: the routers declare them, and the fast path
(api.fastpath) rebuilds the routers' cache keys from a raw query string before routing."""

from __future__ import annotations

from api.schemas import Window

DEFAULT_WINDOW = Window.H24
RANKINGS_LIMIT = 20  # default number of ranked streams
RANKINGS_LIMIT_MIN, RANKINGS_LIMIT_MAX = 1, 100
