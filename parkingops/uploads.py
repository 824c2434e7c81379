"""Keeping an uploaded file on the server between two requests (an import's preview and its
confirmation), where the client can only name it through its own session.

The file goes to the session engine's store (the database by default), under a fresh random key
of its own that is never sent to the browser: every host behind the load balancer finds it, it
expires like a session (``manage.py clearsessions`` removes it), and the user's session holds
only the key, so the file is not loaded with every request the user makes.
"""

import base64
from importlib import import_module

from django.conf import settings

# A preview left unconfirmed is forgotten after a day.
MAX_AGE = 24 * 60 * 60


def keep_upload(data: bytes) -> str:
    """Store ``data`` and return the key that reads it back."""
    store = _store()
    store["upload"] = base64.b64encode(data).decode("ascii")
    store.set_expiry(MAX_AGE)
    store.save()
    return store.session_key


def read_upload(key: str) -> bytes | None:
    """Return the file stored under ``key``, or None when there is none (any more)."""
    stored = _store(key).get("upload")
    return None if stored is None else base64.b64decode(stored)


def take_upload(key: str) -> bytes | None:
    """Return the file stored under ``key`` and forget it, or None when there is none.

    Once: of two simultaneous calls (a double-clicked confirmation) only one gets the file.
    The database's DELETE decides, as its unique constraint decides elsewhere; a store
    without rows (cache, cookies) is only as exact as its own delete.
    """
    store = _store(key)
    stored = store.get("upload")
    if stored is None:
        return None
    model = getattr(store, "model", None)  # the database-backed session engines
    if model is not None:
        if not model.objects.filter(session_key=key).delete()[0]:
            return None  # the other call took it
    else:
        store.delete(key)
    return base64.b64decode(stored)


def discard_upload(key: str) -> None:
    """Forget the file stored under ``key`` (nothing happens when there is none)."""
    _store().delete(key)


def _store(key: str | None = None):
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key=key)
