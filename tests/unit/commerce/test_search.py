"""Fuzzy product matching (backend.rank_products) on the demo catalogue, without a database."""

from __future__ import annotations

import pytest

from actions.commerce import ProductView, VariantView
from actions.commerce.backend import normalize_order_number, normalize_text, rank_products
from actions.commerce.seed import ALIASES, CATALOGUE, COLOURS

PRODUCTS = [
    ProductView(
        id=entry.slug,
        name=entry.name,
        name_en=entry.name_en,
        category=entry.category,
        aliases=tuple(ALIASES.get(entry.code, "").split("|")),
        variants=tuple(
            VariantView(
                entry.sku(size, colour),
                entry.slug,
                size,
                colour,
                COLOURS[colour][0],
                entry.price * 100,
                1,
            )
            for size in entry.sizes
            for colour in entry.colours
        ),
    )
    for entry in CATALOGUE
]


def names(query: str, limit: int = 5) -> list[str]:
    return [match.product.name for match in rank_products(query, PRODUCTS, limit)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("zapatilla urbana", "Zapatillas urbanas"),
        ("sapatillas urbanas", "Zapatillas urbanas"),
        ("zapatiyas urbanas", "Zapatillas urbanas"),
        ("chaqueta impermeable", "Chaqueta impermeable"),
        ("camiseta basica", "Camiseta básica"),
        ("CAMISETA BÁSICA", "Camiseta básica"),
        ("camiseta", "Camiseta básica"),  # an exact word beats "camisa"
        ("camisa", "Camisa de lino"),
        ("playeras estampadas", "Camiseta estampada"),  # Mexican word
        ("remera básica", "Camiseta básica"),  # Argentine word
        ("tenis", "Zapatillas urbanas"),
        ("sneakers", "Zapatillas urbanas"),
        ("running shoes", "Zapatillas running"),
        ("jerséis de punto", "Suéter de punto"),
        ("wool scarves", "Bufanda de lana"),
        ("pantalones", "Pantalón chino"),
        ("chamarra", "Chamarra de mezclilla"),
        ("zapatillas blancas", "Zapatillas urbanas"),  # a colour narrows it
        ("basic t-shirt", "Camiseta básica"),
        ("gorra", "Gorra clásica"),
    ],
)
def test_best_match(query: str, expected: str) -> None:
    assert names(query)[0] == expected


@pytest.mark.parametrize(
    ("query", "unwanted"),
    [("shorts", "Camisa de lino"), ("skirt", "Camisa oxford"), ("gorra", "Gorro de lana"),
     ("chinos", "Cinturón de piel")],
)  # fmt: skip
def test_short_words_need_to_be_nearly_exact(query: str, unwanted: str) -> None:
    assert unwanted not in names(query)


def test_ranking_and_limit() -> None:
    matches = rank_products("zapatillas", PRODUCTS, 5)
    assert [m.product.name for m in matches][:2] == ["Zapatillas urbanas", "Zapatillas running"]
    assert all(0 < m.score <= 1 for m in matches)
    assert len(rank_products("camiseta", PRODUCTS, 1)) == 1
    assert rank_products("camiseta", PRODUCTS, 0) == []
    assert rank_products("camiseta", [], 5) == []


@pytest.mark.parametrize("query", ["xyzzy qwerty", "hola", "quiero", "de la", "", "1234", "🙂"])
def test_nothing_for_nonsense(query: str) -> None:
    assert names(query) == []


def test_normalize_text() -> None:
    assert normalize_text("  Camiseta BÁSICA!! ") == "camiseta basica"
    assert normalize_text("Pantalón\tchino") == "pantalon chino"
    assert normalize_text("Ñandú") == "nandu"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10001", "10001"), ("#10001", "10001"), (" 10001. ", "10001"), (10001, "10001"),
     ("010001", "10001"), ("10001' OR '1'='1", None), ("1e5", None), ("", None), (0, None),
     (True, None), (None, None), ("1" * 13, None)],
)  # fmt: skip
def test_normalize_order_number(text: object, expected: str | None) -> None:
    assert normalize_order_number(text) == expected  # type: ignore[arg-type]
