"""Which connection made which view, so no client can touch another's views.

Perspective 5.5.1 keeps the client-chosen view ids in one namespace per server and, when
a session closes a view that another session made (or deleted, or that was made twice
under one id), throws from C++ past Python and aborts the whole process ("View not
found"). So the handler refuses a view id already in use and any request that names a
view this connection did not make. Views per connection are capped to bound memory.
"""

from __future__ import annotations

from typing import Final

MAX_VIEWS_PER_CONNECTION: Final = 256  # a dashboard holds about ten


class ViewOwners:
    def __init__(self) -> None:
        self._owner: dict[str, object] = {}
        self._views: dict[object, set[str]] = {}

    def claim(self, view_id: str, owner: object) -> str | None:
        """None when ``owner`` may make the view (now recorded as its), else the refusal reason."""
        if view_id in self._owner:
            return "view_id_in_use"
        views = self._views.setdefault(owner, set())
        if len(views) >= MAX_VIEWS_PER_CONNECTION:
            return "too_many_views"
        self._owner[view_id] = owner
        views.add(view_id)
        return None

    def reserve(self, view_id: str, owner: object) -> None:
        """Record a view the gateway itself holds (uncapped: one per distinct client view)."""
        self._owner.setdefault(view_id, owner)

    def foreign(self, entity_id: str, owner: object) -> bool:
        """True when ``entity_id`` is a view some other connection made."""
        made_by = self._owner.get(entity_id)
        return made_by is not None and made_by is not owner

    def release(self, view_id: str, owner: object) -> None:
        if self._owner.get(view_id) is owner:
            del self._owner[view_id]
            self._views.get(owner, set()).discard(view_id)

    def release_all(self, owner: object) -> None:
        for view_id in self._views.pop(owner, set()):
            self._owner.pop(view_id, None)

    def __len__(self) -> int:
        return len(self._owner)
