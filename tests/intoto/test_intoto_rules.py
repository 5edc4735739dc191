"""Artifact rules, rule by rule, against the reference's ``verify_item_rules`` on generated sets.

For every generated (materials, products, destination link, rule list) both implementations must
agree on failure, and on success leave the same queue.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tufkit.errors import FormatError
from tufkit.intoto import Link, RuleVerificationError, apply_rules, parse_rule

NAMES = ["a", "b", "a/b", "a/c", "a/b/c", "b/a", "x.txt", "a/x.txt", "dir/sub/f.py", "A", ".hidden"]
# Names where joining a MATCH prefix is not plain concatenation (a backslash turned into "/",
# a rest starting with "/"): they take the rule engine's exact path, not its fast one.
NAMES += ["a\\b", "a/b\\c", "a//b", "/a", "dir//f", "b\\a"]
PATTERNS = ["*", "a/*", "?", "a*", "*.txt", "[ab]*", "[!a]*", "a/b", "*/c", "x.txt", "A", "*b*"]
PREFIXES = ["a", "a/", "dir", "dir/sub", "b", "a\\", "/"]
HASHES = [{"sha256": "aa"}, {"sha256": "bb"}, {"sha256": "aa", "sha512": "cc"}]

artifacts = st.dictionaries(st.sampled_from(NAMES), st.sampled_from(HASHES), max_size=6)
generic = st.tuples(
    st.sampled_from(["CREATE", "DELETE", "MODIFY", "ALLOW", "DISALLOW", "REQUIRE", "allow"]),
    st.sampled_from(PATTERNS + NAMES),
).map(list)
match = st.builds(
    lambda pattern, src, dtype, dst, dest: [
        "MATCH",
        pattern,
        *(["IN", src] if src else []),
        "WITH",
        dtype,
        *(["IN", dst] if dst else []),
        "FROM",
        dest,
    ],
    st.sampled_from(PATTERNS),
    st.sampled_from(["", *PREFIXES]),
    st.sampled_from(["MATERIALS", "PRODUCTS", "products"]),
    st.sampled_from(["", *PREFIXES]),
    st.sampled_from(["other", "missing", "item"]),
)
rules = st.lists(st.one_of(generic, match), max_size=5)


def _reference(side: str, rule_list: list[list[str]], links: dict[str, Link]) -> set[str] | None:
    from in_toto import verifylib
    from in_toto.models.link import Link as RefLink

    ref_links = {
        name: RefLink(name=name, materials=dict(link.materials), products=dict(link.products))
        for name, link in links.items()
    }
    try:
        verifylib.verify_item_rules("item", side, rule_list, ref_links)
    except Exception:
        return None
    return set(verifylib.RULE_TRACE["trace"][-1]["queue"]) if rule_list else None


def _ours(side: str, rule_list: list[list[str]], links: dict[str, Link]) -> set[str] | None:
    try:
        trace = apply_rules("item", side, [parse_rule(r) for r in rule_list], links)
    except RuleVerificationError:
        return None
    return trace[-1][1] if trace else None


@given(
    materials=artifacts, products=artifacts, other_m=artifacts, other_p=artifacts, rule_list=rules
)
@pytest.mark.parametrize("side", ["materials", "products"])
def test_rules_agree_with_reference(
    side: str,
    materials: dict[str, Any],
    products: dict[str, Any],
    other_m: dict[str, Any],
    other_p: dict[str, Any],
    rule_list: list[list[str]],
) -> None:
    links = {
        "item": Link(name="item", materials=materials, products=products),
        "other": Link(name="other", materials=other_m, products=other_p),
    }
    assert _ours(side, rule_list, links) == _reference(side, rule_list, links)


def _run(
    side: str, rule: list[str], materials: dict[str, Any], products: dict[str, Any]
) -> set[str]:
    links = {"item": Link(name="item", materials=materials, products=products)}
    return apply_rules("item", side, [parse_rule(rule)], links)[-1][1]


H1, H2 = {"sha256": "aa"}, {"sha256": "bb"}


def test_create_consumes_only_new_products() -> None:
    assert _run("products", ["CREATE", "*"], {"old": H1}, {"old": H1, "new": H1}) == {"old"}
    assert _run("materials", ["CREATE", "*"], {"old": H1}, {"old": H1}) == {"old"}


def test_delete_consumes_only_removed_materials() -> None:
    assert _run("materials", ["DELETE", "*"], {"gone": H1, "kept": H1}, {"kept": H1}) == {"kept"}


def test_modify_requires_different_hashes() -> None:
    left = _run(
        "products", ["MODIFY", "*"], {"same": H1, "changed": H1}, {"same": H1, "changed": H2}
    )
    assert left == {"same"}


def test_star_crosses_directories() -> None:
    assert _run("products", ["ALLOW", "a/*"], {}, {"a/b/c": H1, "b": H1}) == {"b"}


def test_disallow_fails_on_leftovers_with_item_and_rule() -> None:
    links = {"item": Link(name="item", products={"evil": H1})}
    with pytest.raises(RuleVerificationError) as info:
        apply_rules("item", "products", [parse_rule(["DISALLOW", "*"])], links)
    assert (info.value.item, info.value.side, info.value.rule) == (
        "item",
        "products",
        ["DISALLOW", "*"],
    )


def test_require_checks_current_queue_not_original_set() -> None:
    links = {"item": Link(name="item", products={"f": H1})}
    rules = [parse_rule(["ALLOW", "f"]), parse_rule(["REQUIRE", "f"])]
    with pytest.raises(RuleVerificationError, match="REQUIRE"):
        apply_rules("item", "products", rules, links)
    assert apply_rules("item", "products", rules[::-1], links)[-1][1] == set()


def test_match_with_prefixes_and_whole_hash_dicts() -> None:
    links = {
        "item": Link(name="item", materials={"src/a.py": H1, "src/b.py": H1}),
        "build": Link(name="build", products={"out/a.py": H1, "out/b.py": {**H1, "sha512": "cc"}}),
    }
    rule = parse_rule(["MATCH", "*", "IN", "src", "WITH", "PRODUCTS", "IN", "out", "FROM", "build"])
    assert apply_rules("item", "materials", [rule], links)[-1][1] == {"src/b.py"}


def test_match_against_unknown_step_consumes_nothing() -> None:
    rule = parse_rule(["MATCH", "*", "WITH", "PRODUCTS", "FROM", "nowhere"])
    links = {"item": Link(name="item", materials={"a": H1})}
    assert apply_rules("item", "materials", [rule], links)[-1][1] == {"a"}


@pytest.mark.parametrize(
    "rule",
    [
        [],
        ["ALLOW"],
        ["ALLOW", "a", "b"],
        ["FROB", "a"],
        ["MATCH", "a", "WITH", "STUFF", "FROM", "x"],
        ["MATCH", "a", "IN", "x", "FROM", "y"],
        ["MATCH", "a", "WITH", "PRODUCTS", "FROM"],
        ["ALLOW", 3],
        "ALLOW *",
    ],
)
def test_malformed_rules_are_rejected(rule: Any) -> None:
    from in_toto.rulelib import unpack_rule
    from securesystemslib.exceptions import FormatError as RefFormatError

    with pytest.raises(FormatError):
        parse_rule(rule)
    with pytest.raises(RefFormatError):
        unpack_rule(rule)


def test_keywords_are_case_insensitive() -> None:
    rule = parse_rule(["match", "p", "in", "s", "with", "Materials", "in", "d", "from", "Step"])
    assert (rule.kind, rule.source_prefix, rule.dest_type, rule.dest_prefix, rule.dest_name) == (
        "match",
        "s",
        "materials",
        "d",
        "Step",
    )
