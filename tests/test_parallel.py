"""tests/parallel.py: which tests pytest-xdist must keep in one worker, and the order groups start in."""

from types import SimpleNamespace

import pytest

from tests import parallel


def _fixture():
    """Stands for a fixture function defined under tests/."""


def fixturedef(scope, func=_fixture, baseid=""):
    return SimpleNamespace(scope=scope, func=func, baseid=baseid)


class FakeItem:
    def __init__(self, nodeid, fixtures, module="tests.test_a", cost=None):
        self.nodeid, self.fixturenames = nodeid, list(fixtures)
        self._fixtureinfo = SimpleNamespace(name2fixturedefs={k: (v,) for k, v in fixtures.items()})
        self.module, self.cls, self.markers = SimpleNamespace(__name__=module), None, []
        self.cost = cost

    def get_closest_marker(self, name):
        return SimpleNamespace(args=(self.cost,)) if name == "cost" and self.cost else None

    def add_marker(self, marker):
        self.markers.append(marker)

    @property
    def group(self):
        (mark,) = [m for m in self.markers if m.name == "xdist_group"]
        return mark.args[0]


def test_tests_sharing_an_expensive_fixture_share_a_group_and_start_first():
    session, module = fixturedef("session"), fixturedef("module")
    items = [
        FakeItem("a::quick", {"tmp_path": fixturedef("function")}),
        FakeItem("a::uses_data", {"shared_data": fixturedef("session")}),  # cheap: made in every worker
        FakeItem("b::sean_1", {"sean_runs": session}, module="tests.test_b"),
        FakeItem("c::builtin", {"tmp_path_factory": fixturedef("session", func=pytest.main)}),
        FakeItem("d::sean_2", {"sean_runs": session}, module="tests.test_d"),
        FakeItem("e::mod_1", {"converted": module}, module="tests.test_e"),
        FakeItem("f::mod_other", {"converted": module}, module="tests.test_f"),  # another module's instance
        FakeItem("e::mod_2", {"converted": module}, module="tests.test_e"),
        FakeItem("g::slow", {}, cost=40),
    ]
    parallel.group_and_order(items)
    groups = {item.nodeid: item.group for item in items}
    assert groups["b::sean_1"] == groups["d::sean_2"]
    assert groups["e::mod_1"] == groups["e::mod_2"] != groups["f::mod_other"]
    assert len({groups[n] for n in ("a::quick", "a::uses_data", "c::builtin", "g::slow", "b::sean_1")}) == 5
    # by cost: sean_runs 70 + 2 tests, the cost(40) test, module fixture 3 + 2 tests, 3 + 1, then 1 s each in
    # collected order; a group's tests stay together in collected order
    assert [item.nodeid for item in items] == ["b::sean_1", "d::sean_2", "g::slow", "e::mod_1", "e::mod_2",
                                               "f::mod_other", "a::quick", "a::uses_data", "c::builtin"]
