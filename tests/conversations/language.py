"""Which language a bot reply is in, judged the way a reader would: by its function words.

Independent of Hilo's own detector (components/language.py), which is part of what is tested.
Names, addresses and product names carry no function words, so "Camiseta básica" or
"Av. Álvaro Obregón 123" in an English reply does not make it Spanish. A reply with too few
function words to tell (a number, a button title) is not judged.
"""

from __future__ import annotations

import re

from tests.conversations.script import fold

_SPANISH_WORDS = """
el la los las un una unos unas de del al y o que en es son esta estan por para con sin tu tus
te ti mi mis su sus se lo le les nos no si ya muy mas pero como cuando donde quieres puedes
puedo tienes tiene hay hola gracias pedido pedidos correo envio dias ayudo ayudarte necesito
escribe dime quedo ahora aqui
"""
_ENGLISH_WORDS = """
the a an of and or that in is are was be by for with without you your to me my it its we our
us not yes no if as when where do does can could would will what which this there here hi
hello thanks thank order orders email shipping days help please now want need write tell
"""
SPANISH = frozenset(_SPANISH_WORDS.split())
ENGLISH = frozenset(_ENGLISH_WORDS.split())
# Words both languages share ("no", "a" is Spanish too): they tell nothing.
SHARED = SPANISH & ENGLISH
WORD = re.compile(r"[a-zñ]+")


def language_of(text: str) -> str | None:
    """ "es", "en", or None when the text has too few function words to tell."""
    words = WORD.findall(fold(text))
    spanish = sum(1 for w in words if w in SPANISH and w not in SHARED)
    english = sum(1 for w in words if w in ENGLISH and w not in SHARED)
    if spanish + english < 3:
        return None
    if spanish >= 2 * english:
        return "es"
    if english >= 2 * spanish:
        return "en"
    return None
