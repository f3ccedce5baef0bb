"""The hash chain's canonical JSON must be exactly the standard library's, whichever encoder makes it."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from mou_tracker.services.audit import canonical_json

values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(), values, max_size=6))
def test_canonical_json_is_the_standard_librarys(obj):
    assert canonical_json(obj) == json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def test_control_characters_and_unicode():
    obj = {"b": "tab\tnl\ncr\r\x00\x1f\x7f\u2028 ü 😀 \"q\" \\", "a": [None, True, 1]}
    assert canonical_json(obj) == json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
