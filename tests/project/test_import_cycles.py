"""No import cycles in the layers of the bridge (issue 10: bridge.py and bridge_commands.py
used to import each other; the command handler now gets a way to find a worker instead).

Cycles are found on the import graph import-linter builds (grimp), TYPE_CHECKING imports
included: a cycle hidden behind them is still two modules that cannot be read apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import grimp

#: Packages that must be free of cycles, among their own modules and with any other.
CHECKED = ("envoy2mqtt.bridge", "envoy2mqtt.mqtt", "envoy2mqtt.envoy", "envoy2mqtt.catalog")


def cycles(nodes: Iterable[str], edges: Callable[[str], Iterable[str]]) -> list[set[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(edges(root)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges(child))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def test_the_cycle_finder_finds_a_cycle_and_nothing_else() -> None:
    graph = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}
    assert cycles(graph, graph.__getitem__) == [{"a", "b", "c"}]


def test_no_import_cycle_touches_the_bridge_mqtt_envoy_or_catalog() -> None:
    graph = grimp.build_graph("envoy2mqtt", include_external_packages=False)
    modules = sorted(graph.modules)
    assert "envoy2mqtt.bridge.app" in modules
    found = cycles(modules, graph.find_modules_directly_imported_by)
    bad = [sorted(c) for c in found if any(m.startswith(CHECKED) for m in c)]
    assert not bad, bad
