"""Reading catalogue words in customers' answers: sizes and colours, in both languages.

Shared by the order forms that pick a variant (buying, changing an item).
"""

from __future__ import annotations

import re
from typing import Any

from actions.commerce.backend import ProductView, normalize_text

# English colour words customers type, to the Spanish name the catalogue uses.
COLOURS_EN = {
    "black": "negro",
    "white": "blanco",
    "grey": "gris",
    "gray": "gris",
    "navy": "azul marino",
}


def fold(text: Any) -> str:
    """Lowercase, no accents or punctuation, so "Estándar" and "estandar" read alike."""
    return normalize_text(str(text or ""))


def with_singulars(text: str) -> str:
    """The text plus the masculine singular of each word: "blancas" also reads "blanco".

    Colours agree with the garment ("zapatillas blancas", "jeans negros"); the catalogue
    names them in the masculine singular.
    """
    words = fold(text).split()
    extra = [re.sub(r"(as|os|a|es|s)$", "o", word) for word in words]
    extra += [re.sub(r"(es|s)$", "", word) for word in words]
    return " ".join(words + extra)


def pick(options: tuple[str, ...], text: str, english: dict[str, str] | None = None) -> str | None:
    """The option the text names as a whole word ("talla 42" → "42", "black" → "negro")."""
    folded = f" {fold(text)} "
    for option in sorted(options, key=len, reverse=True):
        if re.search(rf"(?<![\w]){re.escape(fold(option))}(?![\w])", folded):
            return option
    for word, spanish in (english or {}).items():
        if re.search(rf"\b{word}\b", folded) and spanish in options:
            return spanish
    return None


def variant_titles(product: ProductView, quantity: int = 1, exclude: str = "") -> list[str]:
    """Button titles ("M · negro") of the variants with `quantity` in stock, but `exclude`."""
    return [
        " · ".join(part for part in (v.size, v.colour) if part)
        for v in product.variants
        if v.stock >= quantity and v.sku != exclude
    ]
