"""Which language a customer writes in: Spanish or English, or "can't tell".

Hilo answers in the customer's language and follows a switch mid-conversation. Messages on
WhatsApp are short, unaccented and full of typos, so statistical detectors trained on prose
(and anything that would need a download) do poorly on "ok", "q onda" or "pls help". This
detector scores a message by words that only occur in one of the two languages, plus marks
that only Spanish uses (ñ, ¿, ¡, accented vowels). When the evidence is weak or balanced it
says so (`None`), and the conversation keeps its previous language: "ok", "10234" or "👍"
never flip it.

`LanguageDetector` puts the verdict into the parse result as `language`, and the evidence as
`language_scores` (top-level keys, not entities, so intent and entity evaluations are
unaffected); actions/language.py decides when the conversation's `language` slot follows.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Literal

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

Language = Literal["es", "en"]

LANGUAGES: tuple[Language, ...] = ("es", "en")
DEFAULT_LANGUAGE: Language = "es"
PARSE_KEY = "language"
SCORES_KEY = "language_scores"

# Words written without accents, lowercase. A word belongs here only if it is rare as a word
# in the other language ("no", "me", "a", "ok", "come", "ten" are in neither list).
_SPANISH = frozenset(
    """
    que q k de del la las el los en y e o un una unos unas por para con sin sobre entre hasta
    desde mi mis tu tus su sus nuestro es son esta estan estoy estas estamos era fue ser soy eres
    sos hay tengo tiene tienen tienes tenes puedo puede pueden podes podria quiero quiere quieres
    queres quisiera necesito necesita necesitas gustaria hola holaa holaaa buenas buenos buen dia
    dias tardes noches gracias graciass muchas mucho muchisimas porfa porfis porfavor favor
    xfa xfavor
    como cuando donde cual cuales cuanto cuanta cuantos cuantas porque xq pq porq pk quien quienes
    que onda pues pero tambien tmb tb ya todavia aun aca aqui alla ahi ahora ahorita luego despues
    antes hoy ayer manana semana mes nada algo alguien nadie todo todos toda siempre nunca solo
    muy mas menos bien mal bueno buena malo mala gran poco vale dale claro sip simon nel neta orale
    chido che boludo vos usted ustedes ustede vosotros le les lo se nos te ti conmigo contigo
    pedido pedidos pedi compra compre comprar envio envios enviar llega llego llegado llegara
    devolver devolucion reembolso dinero factura tienda talla tallas precio cuesta costo pago pague
    pagar tarjeta cuenta contrasena correo telefono direccion ciudad cambio cambiar cancelar
    ayuda ayudar ayudame hablar persona asesor agente queja reclamo problema paquete guia
    rastreo camiseta playera remera polera zapatillas tenis chaqueta chamarra campera pantalon
    vestido falda sudadera gorra calcetines mochila bolso cinturon lentes pijama entonces
    adios chao chau hasta nos vemos saludos listo perfecto genial excelente estaria seria hace
    hacer hice hizo dijo dicen decir saber sabes se algun alguna ningun ninguna cosa cosas
    otra otro mismo misma ese esa eso este estos estas aquel cada mejor peor nuevo nueva
    """.split()  # noqa: SIM905 (reads best as text)
)

_ENGLISH = frozenset(
    """
    the an and or but is are am was were be been being i im i'm you your you're ur u my mine
    me we our they their it its it's this that these those there here what whats what's where
    wheres when why how who which whom can could would should will won't wont do does did
    don't dont doesn't didn't not have has had having get got getting want wanna need needs
    please pls plz thanks thank thx ty hi hello hey hiya yes yeah yep yup nope sure okay bye
    goodbye see later just still already yet now today tomorrow yesterday week month some any
    all every much many more less very really good great bad well with without from about into
    of to for at by on in off out up down if then than so too also only order orders ordered
    shipping ship shipped delivery deliver delivered arrive arrived arriving package track
    tracking number return returns refund money back invoice receipt store shop size sizes
    price cost pay paid payment card account password email phone address city change
    cancel help talk speak person someone agent human complaint problem issue wrong broken
    item items shirt shoes sneakers jacket pants dress buy bought purchase available stock
    hours open close closed location locations discount code coupon free how's let's lets
    know think tell told said say ask asked send sent make made use used left right
    """.split()  # noqa: SIM905 (reads best as text)
)

_SPANISH_MARKS = re.compile(r"[ñ¿¡áéíóú]")
_WORD = re.compile(r"[a-z']+")


def _fold(text: str) -> str:
    """Lowercase and drop accents, so "Cuándo" and "cuando" count the same."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def language_scores(text: str | None) -> dict[Language, float]:
    """Evidence for each language: words only one of them uses, plus Spanish-only marks.

    Accented vowels, ñ, ¿ and ¡ each add a point to Spanish, but only in a message with words
    ("¿¿??", "10234", "👍" score nothing).
    """
    text = text or ""
    words = _WORD.findall(_fold(text))
    if not words:
        return {"es": 0.0, "en": 0.0}
    spanish = float(len(_SPANISH_MARKS.findall(text.lower())))
    english = 0.0
    for word in words:
        if word not in _SPANISH and word not in _ENGLISH:
            word = _STRETCHED.sub(r"\1", word)  # "hiii", "holaaa", "thxxx"
        if word in _SPANISH:
            spanish += 1
        elif word in _ENGLISH:
            english += 1
    return {"es": spanish, "en": english}


# A letter typed three or more times in a row, as in "hiii" or "graciasss".
_STRETCHED = re.compile(r"(\w)\1{2,}")


def detect_language(text: str | None) -> Language | None:
    """Returns "es" or "en" when the text leans that way by a point or more, otherwise None.

    This is the message's language, not yet the conversation's: the `language` slot changes
    only on clear evidence (actions/language.py), so a name, a street or a one-word goodbye
    from the other language does not flip the replies.
    """
    scores = language_scores(text)
    if scores["es"] >= scores["en"] + 1:
        return "es"
    if scores["en"] >= scores["es"] + 1:
        return "en"
    return None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class LanguageDetector(GraphComponent):
    """Adds `language` ("es", "en" or None) to every parsed message."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageDetector:
        """Creates the component (it has no configuration and nothing to train)."""
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        """Sets the `language` output property of each message."""
        for message in messages:
            scores = language_scores(message.get(TEXT))
            message.set(PARSE_KEY, detect_language(message.get(TEXT)), add_to_output=True)
            message.set(SCORES_KEY, scores, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training examples need no language tag: nothing downstream learns from it."""
        return training_data
