"""Records survive record → dict → record (property-based)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ingest.records import (Application, Contact, InnovationExample, Municipality, Passage, Section, Tag,
                            from_dict, short_hash, to_dict)

text = st.text(max_size=30)
sections = st.builds(Section, question=text, label=text, text=text, criterion=st.none() | text,
                     page_start=st.integers(1, 50), page_end=st.integers(1, 50))
tags = st.builds(Tag, kind=text, label=text, confidence=st.floats(0, 1), source=text,
                 evidence=st.lists(text, max_size=3).map(tuple))
passages = st.builds(Passage, id=text, example_id=text, question=text, text=text, page=st.integers(1, 9),
                     ordinal=st.integers(1, 9), criteria=st.lists(text, max_size=2).map(tuple))
examples = st.builds(InnovationExample, id=text, application_id=text, number=st.integers(1, 3), title=text,
                     sections=st.lists(sections, max_size=3).map(tuple), passages=st.lists(passages, max_size=3).map(tuple),
                     tags=st.lists(tags, max_size=3).map(tuple))
municipalities = st.builds(Municipality, written=text, today_numbers=st.lists(text, max_size=2).map(tuple),
                           population=st.none() | st.integers(0, 10**6), centrality=st.none() | st.integers(1, 6))
applications = st.builds(Application, id=text, file=text, sha256=text, year=st.none() | st.integers(2014, 2030),
                         form=text, municipality=municipalities, contact=st.builds(Contact, name=text),
                         examples=st.lists(examples, max_size=3).map(tuple))


@given(applications)
def test_application_round_trip(app: Application) -> None:
    assert from_dict(Application, to_dict(app)) == app


def test_short_hash_is_stable() -> None:
    assert short_hash("Bærum", "2016") == short_hash("Bærum", "2016") != short_hash("Bærum", "2017")
    assert len(short_hash("x")) == 12
