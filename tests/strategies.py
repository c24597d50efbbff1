"""Hypothesis strategies shared by the test-suite."""

from __future__ import annotations

from hypothesis import strategies as st

# Few distinct values, so that ties (the interesting case for ordering) are common.
priorities = st.one_of(
    st.sampled_from([-2, -1, 0, 0, 0, 1, 2]),
    st.floats(min_value=-3, max_value=3, allow_nan=False, width=16),
)

# Where a handler lives: added to the root Manager itself, or on its own component.
owners = st.sampled_from(["root", "component"])

# A set of handlers on one channel: (owner, priority) in registration order.
handler_specs = st.lists(st.tuples(owners, priorities), min_size=1, max_size=12)

# Fire priorities of one batch.
fire_priorities = st.lists(st.integers(min_value=-3, max_value=3), min_size=1, max_size=20)

# Rounds of test-driven firing: each round fires some events then flushes once; each
# event's handler fires follow-up events with the given priorities.
rounds = st.lists(
    st.lists(
        st.tuples(
            st.integers(min_value=-2, max_value=2),
            st.lists(st.integers(min_value=-2, max_value=2), max_size=3),
        ),
        max_size=6,
    ),
    min_size=1,
    max_size=5,
)

# A cascade: (fire priority, flush inside the handler?, the events its handler fires).
cascades = st.recursive(
    st.tuples(st.integers(min_value=-2, max_value=2), st.booleans(), st.just(())),
    lambda children: st.tuples(
        st.integers(min_value=-2, max_value=2),
        st.booleans(),
        st.lists(children, max_size=4).map(tuple),
    ),
    max_leaves=30,
)
