"""Scheduling for parallel runs (pytest-xdist, `--dist loadgroup`; pyproject's addopts): tests that share an
expensive module- or session-scoped fixture are put in one `xdist_group`, so that fixture is made once, in one
worker; groups are ordered most expensive first (longest-processing-time first), so the long ones start at once and
the short ones fill the gaps. Costs are rough seconds on a 2-core machine: FIXTURE_COST for shared fixtures, the
`cost(seconds)` marker for slow tests, 1 s otherwise; they only order the work, nothing asserts them.
"""

from __future__ import annotations

import inspect
import pathlib

TESTS = pathlib.Path(__file__).resolve().parent

# Shared fixtures cheap enough to make in every worker that needs them (folders of symlinks, paths, env dicts):
# grouping on them would chain unrelated tests together.
CHEAP_SHARED = {"shared_data", "shared_parity", "dayton_data", "core_env", "cityscapes_root", "coco_root",
                "celeba_root"}
# Setup seconds of the expensive shared fixtures (measured on 2 cores); unlisted ones count DEFAULT_FIXTURE_COST.
FIXTURE_COST = {"tiny_runs": 60, "mirrored_runs": 100, "sean_runs": 70, "sean_export": 20, "tiny_run_dir": 35,
                "exported": 25, "dayton_run": 15, "tiny_segmenter": 8}
DEFAULT_FIXTURE_COST = 3


def register_markers(config):
    config.addinivalue_line("markers", "cost(seconds): rough run time on 2 cores, to start slow tests first "
                                       "under pytest-xdist (tests/parallel.py)")


def _shared_fixture_keys(item):
    """(fixture name, instance) keys of the expensive non-function-scoped repo fixtures `item` uses."""
    keys = []
    for name in item.fixturenames:
        defs = item._fixtureinfo.name2fixturedefs.get(name)
        if not defs or name in CHEAP_SHARED:
            continue
        fixturedef = defs[-1]
        source = inspect.getsourcefile(fixturedef.func) or ""
        if fixturedef.scope == "function" or TESTS not in pathlib.Path(source).resolve().parents:
            continue  # per-test, or pytest's own (tmp_path_factory, ...)
        instance = item.module.__name__ if fixturedef.scope == "module" else (
            item.cls.__qualname__ if fixturedef.scope == "class" and item.cls else fixturedef.baseid)
        keys.append((name, instance))
    return keys


def group_and_order(items) -> None:
    """Adds an `xdist_group` marker to every item (union of the tests that share an expensive fixture) and reorders
    `items` in place: groups by decreasing cost, tests in their collected order within a group."""
    import pytest

    parent = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    keys_of = {}
    for item in items:
        keys_of[item.nodeid] = _shared_fixture_keys(item)
        for key in keys_of[item.nodeid]:
            parent[find(("test", item.nodeid))] = find(key)
        find(("test", item.nodeid))
    cost, fixtures_seen, first = {}, set(), {}
    for index, item in enumerate(items):
        root = find(("test", item.nodeid))
        first.setdefault(root, index)
        marker = item.get_closest_marker("cost")
        cost[root] = cost.get(root, 0) + (marker.args[0] if marker else 1)
        for key in keys_of[item.nodeid]:
            if key not in fixtures_seen:
                fixtures_seen.add(key)
                cost[root] += FIXTURE_COST.get(key[0], DEFAULT_FIXTURE_COST)
    rank = {root: r for r, root in enumerate(sorted(cost, key=lambda root: (-cost[root], first[root])))}
    for item in items:
        item.add_marker(pytest.mark.xdist_group(f"g{rank[find(('test', item.nodeid))]:03d}"))
    items.sort(key=lambda item: rank[find(("test", item.nodeid))])  # stable: collected order within a group
