"""Read a captured fixture directory and answer requests the way the captured Envoy did.

Two URL-to-file modes exist because the golden files (``expected.json``) were produced by
pyenphase's test helper, which maps some URLs to other files than the device served:

* ``device``: each URL is answered from its own capture (``/production.json?details=1`` from
  ``production.json_details_1``); a URL without a capture is a 404.
* ``golden``: pyenphase's rules: ``?details=1`` is served from ``production.json`` and
  ``/inventory.json?deleted=1`` from ``inventory``.
"""

from __future__ import annotations

import enum
import json
from pathlib import Path

import msgspec

_JSON = "application/json"


class FixtureMode(enum.StrEnum):
    """How URLs map to capture files."""

    DEVICE = "device"
    GOLDEN = "golden"


class StoredResponse(msgspec.Struct, frozen=True):
    """A captured response: status, body and content type."""

    status: int
    body: bytes
    content_type: str


_GOLDEN_ALIASES: dict[str, str] = {
    "production.json_details_1": "production.json",
    "inventory.json_deleted_1": "inventory",
}


def slug_for(path_and_query: str) -> str:
    """Return the capture file name for a URL path with optional query string.

    >>> slug_for("/production.json?details=1")
    'production.json_details_1'
    """
    path, _, query = path_and_query.partition("?")
    slug = path.lstrip("/").replace("/", "_")
    if query:
        for part in query.split("&"):
            key, _, value = part.partition("=")
            slug += f"_{key}_{value}" if value else f"_{key}"
    return slug


def _guess_content_type(body: bytes) -> str:
    head = body.lstrip()[:1]
    if head in (b"{", b"["):
        return _JSON
    if head == b"<":
        return "text/html" if body.lstrip()[:5].lower() in (b"<!doc", b"<html") else "text/xml"
    return "text/plain"


class FixtureStore:
    """Serves the files of one fixture directory; reads are cached in memory."""

    def __init__(self, directory: Path, mode: FixtureMode = FixtureMode.DEVICE) -> None:
        """Open ``directory`` (a folder like ``fixtures/8.3.1598_collar``)."""
        if not directory.is_dir():
            msg = f"fixture directory not found: {directory}"
            raise FileNotFoundError(msg)
        self.directory = directory
        self.mode = mode
        self._cache: dict[str, StoredResponse | None] = {}

    def slugs(self) -> list[str]:
        """Return every capture file name (without log companions or goldens)."""
        skip = ("_log.json", "_readme")
        return sorted(
            p.name
            for p in self.directory.iterdir()
            if p.is_file() and not p.name.endswith(skip) and p.name != "expected.json"
        )

    def resolve(self, path_and_query: str) -> str:
        """Return the capture file name that answers ``path_and_query`` in this mode."""
        slug = slug_for(path_and_query)
        if self.mode is FixtureMode.GOLDEN:
            slug = _GOLDEN_ALIASES.get(slug, slug)
        return slug

    def lookup(self, path_and_query: str) -> StoredResponse | None:
        """Return the captured response for a GET of ``path_and_query``, or None (404)."""
        return self.lookup_slug(self.resolve(path_and_query))

    def lookup_slug(self, slug: str) -> StoredResponse | None:
        """Return the captured response stored under file name ``slug``, or None."""
        if slug not in self._cache:
            self._cache[slug] = self._load(slug)
        return self._cache[slug]

    def _load(self, slug: str) -> StoredResponse | None:
        file = self.directory / slug
        if not file.is_file():
            return None
        body = file.read_bytes()
        status, content_type = 200, ""
        log = self.directory / f"{slug}_log.json"
        if log.is_file():
            meta = json.loads(log.read_bytes())
            status = int(meta.get("code", 200))
            headers = {k.lower(): v for k, v in meta.get("headers", {}).items()}
            content_type = str(headers.get("content-type", ""))
        if self.mode is FixtureMode.GOLDEN and body.strip() == b'{"status": 401}':
            status = 401
        return StoredResponse(
            status=status,
            body=body,
            content_type=content_type or _guess_content_type(body),
        )
