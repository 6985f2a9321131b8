"""EntityMerger: one entity per span, and addresses the CRF split at punctuation joined."""

from __future__ import annotations

from components.entities import join_adjacent, merge_entities


def entity(kind: str, start: int, end: int, text: str, extractor: str = "CRFEntityExtractor"):
    return {
        "entity": kind,
        "start": start,
        "end": end,
        "value": text[start:end],
        "extractor": extractor,
    }


def test_overlapping_same_type_keeps_the_regex_match() -> None:
    text = "mi cel es 55 1234 5678"
    crf = entity("phone", 13, 22, text)
    regex = entity("phone", 10, 22, text, "RegexEntityExtractor")
    assert merge_entities([crf, regex]) == [regex]


def test_different_types_on_the_same_span_are_both_kept() -> None:
    text = "pedido 10001"
    order = entity("order_id", 7, 12, text)
    quantity = entity("quantity", 7, 12, text)
    assert len(merge_entities([order, quantity])) == 2


def test_an_address_split_at_commas_and_periods_is_joined() -> None:
    text = "Av. Insurgentes Sur 1234, Col. Del Valle"
    parts = [
        entity("address", 0, 2, text),
        entity("address", 4, 24, text),
        entity("address", 26, 29, text),
        entity("address", 31, 40, text),
    ]
    [joined] = join_adjacent(parts, text)
    assert joined["value"] == text
    assert (joined["start"], joined["end"]) == (0, len(text))


def test_addresses_separated_by_words_stay_apart() -> None:
    text = "Calle 5 o Calle 7"
    parts = [entity("address", 0, 7, text), entity("address", 10, 17, text)]
    assert len(join_adjacent(parts, text)) == 2


def test_other_types_are_never_joined() -> None:
    text = "Ana, Luis"
    parts = [entity("person", 0, 3, text), entity("person", 5, 9, text)]
    assert len(join_adjacent(parts, text)) == 2
