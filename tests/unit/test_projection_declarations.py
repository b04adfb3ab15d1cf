"""The read models' declarations (services/*/rebuild.py, liuhen/projections.py):
well formed, and a consumer's projection folds the events its consumer is sent."""

import re

import pytest

from contracts.assessment import ASSESSED_EVENTS
from contracts.registry import routing_key
from eventlog.rebuild import Projection, per_event
from liuhen import projections
from services.accountability.rebuild import MARKS


def topic_matches(pattern: str, key: str) -> bool:
    """AMQP topic matching for patterns of `*` and words (no `#` here)."""
    words, parts = pattern.split("."), key.split(".")
    return len(words) == len(parts) and all(
        w == "*" or w == p for w, p in zip(words, parts, strict=True)
    )


def test_the_marks_fold_the_events_the_marks_consumer_subscribes_to():
    for type_, pattern in ASSESSED_EVENTS.items():
        category = pattern.split(".")[1]
        assert type_ in MARKS.types and category in MARKS.categories
        assert topic_matches(pattern, routing_key("somewhere", category, type_))
    assert MARKS.consumer == "accountability.marks"


def test_names_are_unique_and_all_takes_every_one():
    names = [p.name for p in projections.ALL]
    assert len(names) == len(set(names))
    assert projections.named("all") == list(projections.ALL)
    assert projections.named("marks") == [MARKS]


def test_an_unknown_name_is_refused_naming_the_known_ones():
    with pytest.raises(projections.UnknownProjection) as caught:
        projections.named("complaint")
    assert str(caught.value).startswith("no projection 'complaint'; known: directory")
    assert str(caught.value).endswith(", or all")


def test_the_list_says_what_each_folds_and_keeps():
    text = "\n".join(projections.describe())
    assert re.search(r"^marks\s+unit assessment marks", text, re.M)
    assert "as consumer accountability.marks applied them" in text
    assert "keeps         notify.outbox: the senders' queue" in text


def test_a_projection_names_its_tables_and_what_it_folds():
    with pytest.raises(ValueError, match="names no table"):
        Projection("x", "x", (), print, frozenset({"x"}))
    with pytest.raises(ValueError, match="folds no category or type"):
        Projection("x", "x", ("a.b",), print)


def test_per_event_hands_the_service_a_list_of_one():
    seen = []
    per_event(lambda store, recorded: seen.append((store, recorded)))("s", "e")
    assert seen == [("s", ["e"])]
