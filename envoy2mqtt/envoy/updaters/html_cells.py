"""The text of every table cell of an HTML page (the legacy ``/production`` page).

Its own module so that ``html.parser`` (with ``html.entities`` and ``_markupbase``, ≈ 0.4 MiB
RSS) is imported only when a 3.x Envoy's page is actually parsed, not by every bridge
(docs/performance.md § 6).
"""

from __future__ import annotations

from html.parser import HTMLParser

__all__ = ["table_cells"]


class _CellCollector(HTMLParser):
    """Collects the text of every table cell, in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.cells: list[str] = []
        self._current: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "td":
            self._current = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._current is not None:
            self.cells.append(" ".join("".join(self._current).split()))
            self._current = None

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._current.append(data)


def table_cells(page: str) -> list[str]:
    """Each ``<td>``'s text with its whitespace collapsed, in document order."""
    collector = _CellCollector()
    collector.feed(page)
    collector.close()
    return collector.cells
