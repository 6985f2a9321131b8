"""What a customer's reply means when the bot asked something: yes, no, "wait", a question...

The intent classifier answers "which request is this?"; at a question the bot asked, the
decisive thing is different. "hmm no, better not cancel it" is a *no* although it names
cancelling, "sí, cancélalo" is a *yes* although it reads like a new cancel request, and
"espera, déjame pensarlo" is neither. An irreversible step runs only on a clear yes, so this
reader is deliberately strict: a yes word with a "but", a "wait", a negation or a question
attached is not a clear yes. Every order form reads its confirmations and drops through here
(actions/orders/flow.py), so the rule is the same at every confirmation.

Patterns work on folded text (lowercase, no accents, no punctuation but "?"), in Spanish
(Mexican, Argentine, Colombian, Chilean, Spain) and English, as people type on WhatsApp.
"""

from __future__ import annotations

import enum
import re
import unicodedata


class Reply(str, enum.Enum):
    """What an answer to a yes/no question means."""

    YES = "yes"
    NO = "no"
    HOLD = "hold"  # wait, let me think, later: nothing happens, and the bot says so
    QUESTION = "question"  # a question instead of an answer: answer it, then nothing happens
    UNCLEAR = "unclear"


def fold(text: str) -> str:
    """Lowercase, accents off, punctuation as spaces (but "?" kept), spaces collapsed."""
    text = str(text or "").replace("👍", " ok ").replace("👎", " no ")
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = re.sub(r"[¿]", " ", plain)
    plain = re.sub(r"[^\w?\s]", " ", plain)
    return " ".join(plain.split())


def _words(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


_YES = _words(
    r"si+", r"sip", r"sii+", r"s", r"sep", r"simon", r"yes+", r"yep", r"yup", r"yeah", r"ya",
    r"ok+", r"okay", r"okey", r"oki", r"va", r"vale", r"dale", r"claro", r"por supuesto",
    r"sure", r"of course", r"correct[oa]?", r"exact[oa]", r"exactly", r"afirmativo",
    r"confirm[oa]?", r"confirmad[oa]", r"confirmar", r"confirm(ed)?", r"adelante", r"go ahead",
    r"do it", r"hazlo", r"hagalo", r"procede", r"proceed", r"perfecto", r"perfect", r"listo",
    r"de una", r"obvio", r"orale", r"sale", r"andale", r"asi es", r"that s right",
    r"thats right", r"right", r"affirmative", r"absolutely", r"definitely", r"please do",
    r"cancelal[oa]", r"cancelen(lo|la)?", r"cancela(lo|la)?", r"cancel it", r"place it",
    r"cambial[oa]", r"cambienla", r"change it", r"hazla", r"abrela", r"open it", r"yes please",
    r"si por favor", r"si porfa", r"de acuerdo", r"sounds good", r"esta bien", r"agreed",
    r"me parece bien", r"i agree", r"that works", r"hagamoslo", r"let s do it", r"go for it",
    r"lets do it", r"vamos", r"le damos", r"ahi va",
)  # fmt: skip
_NO = _words(
    r"no+", r"nop+e?", r"nah", r"nel", r"para nada", r"not", r"don t", r"dont", r"do not",
    r"never", r"nunca", r"mejor no", r"better not", r"no gracias", r"no thanks", r"negativo",
    r"ni loco", r"tampoco", r"cancel that", r"olvidalo", r"forget it", r"n t",
)  # fmt: skip
# "Wait", "let me think", "later", "not sure", "I'll check with...": nothing happens yet.
_HOLD = _words(
    r"espera(me|te)?", r"esperate", r"aguanta", r"aguarda", r"un momento", r"un segundo",
    r"un seg", r"momento", r"wait", r"hold on", r"hang on", r"one sec(ond)?", r"a sec",
    r"d[ée]jame pensar(lo)?", r"dejame (ver|checar|revisar|consultar|preguntar|lo pienso|pensarlo)",
    r"dejame lo (platico|pienso|consulto|reviso)", r"lo (pienso|platico|consulto|reviso|checo)",
    r"pensarlo", r"lo voy a pensar", r"voy a pensar", r"pensar(lo)? bien", r"lo tengo que pensar",
    r"let me think", r"think about it", r"i ll think", r"need to think", r"let me check",
    r"double check", r"check with", r"ask my", r"preguntar(le)? a", r"consultar(lo)?",
    r"luego", r"despues", r"mas tarde", r"otro dia", r"manana", r"later", r"tomorrow",
    r"not sure", r"no (estoy|toy) segur[oa]", r"no se", r"no lo se", r"i don t know",
    r"i dont know", r"idk", r"maybe", r"tal vez", r"quizas?", r"a lo mejor", r"capaz",
    r"not yet", r"todavia no", r"aun no", r"por ahora no", r"not now", r"ahorita no",
    r"no por ahora", r"talk to", r"speak (to|with)", r"hablar(lo)? con", r"hablarlo",
    r"platicar(lo)?", r"lo platico", r"consultar(lo)? con", r"first", r"primero",
)  # fmt: skip
# Words around a yes that make it an acknowledgement or a goodbye, not a decision.
_NOT_DECIDING = _words(
    r"gracias", r"thanks?", r"thank you", r"thx", r"bye", r"adios", r"chao", r"chau",
    r"nos vemos", r"see you", r"later",
)  # fmt: skip
# What may surround a clear yes: politeness and the action itself ("sí, cancélalo porfa").
_AROUND_YES = _words(
    r"por favor", r"porfa", r"porfis", r"please", r"pls", r"plz", r"entonces", r"then", r"so",
    r"el pedido", r"the order", r"it", r"lo", r"la", r"todo", r"all", r"de una vez", r"ya",
    r"ahora", r"now", r"bien", r"good", r"fine", r"va", r"pues", r"and", r"y",
    # A yes relayed from whoever the customer checked with ("ok he says go for it", "mi
    # esposo dice que sí"): the person is not a condition.
    r"(he|she|they|(my|mi) \w+) (says|said|agrees|agreed|dice|dijo)( que)?", r"(dice|dijo) que",
    r"(mi|my) (esposo|esposa|marido|mujer|novio|novia|mama|papa|jefe|husband|wife|partner"
    r"|boyfriend|girlfriend|mom|dad|boss)",
)  # fmt: skip
_STARTS_NO = re.compile(
    r"^(no+|nop+e?|nah|nel|negativo|mejor no|better not|don t|dont|do not|never|nunca)(?!\w)"
)
MAX_YES_EXTRA_WORDS = 2
# Thinking noises: they neither hold nor answer ("hmm no" is a no, "mmm sí" a yes).
_FILLER = _words(r"h?m+", r"hmm+", r"e+h+", r"u+h+m*", r"este", r"pues", r"well", r"so")
# A yes with a condition attached is not a clear yes ("sí, pero mañana").
_BUT = _words(r"pero", r"but", r"aunque", r"although", r"si y solo si", r"only if", r"solo si")
_QUESTION_WORDS = _words(
    r"que", r"como", r"cuando", r"cuanto", r"cuanta", r"cuantos", r"donde", r"por que",
    r"porque", r"cual", r"will", r"would", r"what", r"how", r"when", r"where", r"why",
    r"which", r"can i", r"do i", r"does", r"is it", r"se puede", r"puedo", r"hay que",
)  # fmt: skip
# Dropping what the form was collecting, in the customer's words.
_DROP = _words(
    r"olvidalo", r"olvida(lo)?", r"olvidate", r"olvidenlo", r"dejalo( asi| ahi)?", r"dejemoslo",
    r"deja(lo)? asi", r"ya no( lo| la)? quiero", r"ya no quiero nada", r"mejor no",
    r"no quiero (nada|comprar|seguir)", r"cancela(lo)? todo", r"mejor otro dia",
    r"luego veo", r"luego lo veo", r"despues veo", r"lo veo despues", r"en otro momento",
    r"forget it", r"forget about it", r"never ?mind", r"nvm", r"skip it", r"maybe later",
    r"another time", r"some other time", r"i ll pass", r"not anymore", r"no longer want",
    r"don t want (it|to|this) anymore", r"dont want (it|this) anymore", r"ya fue",
    r"no quiero seguir", r"no sigas", r"stop it", r"let s stop", r"cancel the order",
    # keeping things as they are: "déjala así", "mejor la dejo como estaba", "leave it as is"
    r"deja(la|los|las)( asi| ahi)?", r"(la|lo|los|las) dejo (asi|como (esta|estaba))",
    r"dejala como (esta|estaba)", r"dejalo como (esta|estaba)",
    r"(leave|keep) it (as it is|as is|as it was|the way it (is|was))",
)  # fmt: skip
_SMALL_TALK = _words(
    r"gracias", r"muchas gracias", r"mil gracias", r"thanks?", r"thank you", r"thx", r"ty",
    r"ok+", r"okay", r"okey", r"oki", r"va", r"vale", r"dale", r"ah+", r"oh+", r"aja", r"ajam",
    r"ya veo", r"entiendo", r"i see", r"got it", r"cool", r"nice", r"genial", r"perfecto",
    r"jaja+", r"jeje+", r"haha+", r"lol", r"xd", r"hola", r"hi", r"hello", r"hey", r"buenas",
    r"bueno", r"sale", r"sip", r"si", r"yes", r"yep", r"listo", r"great", r"👍", r"🙏", r"😊",
    r"que bien", r"super", r"bien",
)  # fmt: skip
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")
# Phrases with a "no" that do not say no.
_NOT_A_NO = _words(
    r"no problem", r"no hay problema", r"no hay bronca", r"no pasa nada", r"no worries",
    r"sin problema", r"no prob",
)  # fmt: skip

# Intents that are the customer saying yes or no to the last question.
YES_INTENTS = frozenset({"affirm"})
NO_INTENTS = frozenset({"deny"})
SMALL_TALK_INTENTS = frozenset({"thank", "greet", "goodbye", "affirm", "bot_challenge"})


def _only(pattern: re.Pattern[str], text: str) -> bool:
    """Whether `text` is made of `pattern`'s matches and nothing else."""
    return bool(text) and not pattern.sub(" ", text).strip()


def is_question(text: str) -> bool:
    """A question rather than an answer: a "?" or a question word leading the sentence."""
    folded = fold(text)
    if "?" in folded:
        return True
    first = " ".join(folded.split()[:2])
    return bool(_QUESTION_WORDS.match(first))


def read_confirmation(text: str, intent: str | None = None) -> Reply:
    """How `text` answers "shall I do it?": only a clear yes is YES.

    Negation wins over yes words ("no, mejor no lo canceles", "better not cancel it"); a
    hold ("espera", "let me think", "mañana") or a "but" makes a yes unclear, so nothing
    happens; a question is answered first. The intent backs up the words for replies such
    as "👍" or "de acuerdo" but never overrides them.
    """
    folded = " ".join(_FILLER.sub(" ", _NOT_A_NO.sub(" ", fold(text))).split())
    if not folded:
        return Reply.UNCLEAR
    has_hold = bool(_HOLD.search(folded))
    if (_STARTS_NO.match(folded) or intent in NO_INTENTS) and not has_hold:
        return Reply.NO
    if is_question(text):
        return Reply.QUESTION  # "y eso no me cuesta extra?" asks, it does not say no
    if has_hold or _BUT.search(folded):
        return Reply.HOLD
    if _NO.search(folded):
        return Reply.NO
    if _NOT_DECIDING.search(folded):
        return Reply.UNCLEAR  # "ok thanks", "ok bye": an acknowledgement, not a decision
    if _YES.search(folded) or intent in YES_INTENTS:
        rest = _AROUND_YES.sub(" ", _YES.sub(" ", folded)).split()
        return Reply.YES if len(rest) <= MAX_YES_EXTRA_WORDS else Reply.UNCLEAR
    return Reply.UNCLEAR


_PERSON = _words(
    r"persona", r"personas", r"humano", r"humana", r"agente", r"asesor", r"asesora",
    r"alguien", r"ejecutivo", r"operador", r"encargado", r"gerente", r"person", r"human",
    r"agent", r"someone", r"somebody", r"representative", r"rep", r"operator", r"manager",
    r"real person", r"customer service", r"atencion al cliente", r"soporte", r"support",
)  # fmt: skip


def asks_for_person(text: str) -> bool:
    """Whether the text names a person to talk to ("can I talk to someone first?")."""
    return bool(_PERSON.search(fold(text)))


# A value corrected as it is typed: "negra... no, mejor gris", "red, no sorry, blue", "la L,
# perdón, la XL". What follows the last of these words is what the customer meant.
_SELF_CORRECTION = re.compile(
    r"\b(mejor|mas bien|digo|quiero decir|perdon|better|rather|instead|i mean|sorry|wait"
    r"|actually|make it|que sean?)\b"
)
# A no that opens a correction rather than a refusal: "no, mejor gris", "no wait, the M".
_NO_THEN_VALUE = re.compile(
    r"^(no+|nel|nah|nop+e?)\s+(no\s+)?(mejor|mas bien|espera|wait|better|rather|make it|que sean?"
    r"|digo|i mean|actually|sorry|perdon)\s+"
    r"(?!(no|nada|not|nothing|dejemos\w*|dejal\w*|deja|olvid\w*|luego|despues|asi|otro"
    r"|forget|never|later|leave)\b)\w+"
)


def corrected_part(text: str) -> str:
    """What follows a message's last self-correction, folded ("no, mejor gris" → "gris").

    The whole message (folded) when it corrects nothing.
    """
    folded = fold(text)
    found = list(_SELF_CORRECTION.finditer(folded))
    if not found or not folded[found[-1].end() :].strip():
        return folded
    return folded[found[-1].end() :].strip()


def is_drop(text: str, intent: str | None = None) -> bool:
    """Whether the customer drops what is being collected ("olvídalo", "forget it, maybe later")."""
    folded = fold(text)
    if _DROP.search(folded):
        return True
    if _NO_THEN_VALUE.match(folded):
        return False  # "no, mejor en azul": a new value, not a refusal
    # A short no ("no", "nel, gracias"); the intent alone is not enough ("normal" is no no).
    return intent in NO_INTENTS and len(folded.split()) <= 4 and bool(_STARTS_NO.match(folded))


def is_small_talk(text: str, intent: str | None = None) -> bool:
    """Whether `text` is chat around a question, not an answer to it.

    "ah ok, thanks", "jaja ok", "👍", "gracias!": never a product, a name or an address.
    Emoji or punctuation only counts as small talk too.
    """
    folded = fold(text)
    if not _LETTER_OR_DIGIT.search(folded):
        return True
    if _only(_SMALL_TALK, folded):
        return True
    return (
        intent in SMALL_TALK_INTENTS
        and len(folded.split()) <= 3
        and not any(ch.isdigit() for ch in folded)
    )


# An aside that is not an answer: an apology or laughter about something else ("haha sorry my
# dog is barking", "perdón, estaba manejando", "un momento, me llaman").
_ASIDE = re.compile(
    r"^(ja(ja)+|je(je)+|ha(ha)+|he(he)+|lol|lmao|xd|sorry|perdon|perdona|disculpa|disculpe"
    r"|oops|ups|uy|one sec|un (momento|segundo|seg)|brb)\b"
)


def is_aside(text: str, intent: str | None = None) -> bool:
    """Whether `text` is an aside (laughter, an apology, a pause) and no answer.

    Such a message starting with laughter or "sorry" and short enough to carry nothing else
    ("sorry my dog is barking like crazy 🐶"); callers check first that it does not answer
    their question ("perdón, me quedaron chicos" is a reason to return).
    """
    folded = fold(text)
    return bool(_ASIDE.match(folded)) and len(folded.split()) <= 10 and not re.search(r"\d", folded)
