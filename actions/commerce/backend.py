"""The commerce backend interface: what the bot may ask of a store, and what it gets back.

The bot's actions talk to the store only through `CommerceBackend`. The interface is narrow on
purpose: every method is something a conversation needs (look up an order, find a product,
place/cancel/change an order, start a return, throttle lookups), and everything it returns is
a frozen dataclass that holds plain values. A store-API adapter (Shopify-like) can implement
it later without the actions noticing; today `actions.commerce.sql.SqlCommerceBackend`
implements it on the demo database.

Money is always an integer number of cents (centavos) in the store currency (MXN), so sums
are exact. Datetimes are timezone-aware UTC; dates (expected delivery) are calendar dates in
the store's timezone.

Errors raised by a backend form one small tree, so an action can catch broadly
(`CommerceError`) or answer precisely::

    CommerceError                      base of every error a backend raises on purpose
    ├── NotFound (LookupError)
    │   ├── OrderNotFound              no order with that number (or a malformed number)
    │   └── ProductNotFound            no product or variant with that id / SKU
    ├── InvalidOrderState              the order's status does not allow the action
    │   └── ReturnAlreadyRequested     a return is already open for the order
    ├── ReturnWindowClosed             delivered more than RETURN_WINDOW ago (has .deadline)
    ├── OutOfStock                     not enough units of a variant (has .available)
    └── InvalidRequest (ValueError)    input rejected before touching the store
        ├── InvalidQuantity            quantity not an integer in 1..MAX_LINE_QUANTITY
        ├── InvalidContact             malformed phone or email, or neither given
        └── InvalidAddress             empty or oversized address fields

Anything else escaping a backend (a dropped database connection, say) is a bug or an outage,
not an answer to give the customer; actions should treat it like any other exception.

The module also holds the store rules every backend shares (order statuses and which actions
each allows, shipping prices, the return window) and the fuzzy product matcher, so that the
rules and the matching stay the same whichever backend is plugged in.
"""

from __future__ import annotations

import difflib
import enum
import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol, runtime_checkable

from actions.commerce.codes import CodeCheck

__all__ = [
    "CANCELLABLE_STATUSES",
    "EDITABLE_STATUSES",
    "LOOKUP_LIMIT_PER_MINUTE",
    "LOOKUP_WINDOW",
    "MAX_LINE_QUANTITY",
    "ORDER_FAILURE_LIMIT",
    "RETURN_WINDOW",
    "SOURCE_FAILURE_LIMIT",
    "VERIFICATION_WINDOW",
    "Address",
    "CancelResult",
    "CommerceBackend",
    "CommerceError",
    "DeliveryOption",
    "InvalidAddress",
    "InvalidContact",
    "InvalidOrderState",
    "InvalidQuantity",
    "InvalidRequest",
    "NewOrder",
    "NotFound",
    "OrderItemView",
    "OrderLine",
    "OrderNotFound",
    "OrderStatus",
    "OrderView",
    "OutOfStock",
    "PaymentMethod",
    "ProductMatch",
    "ProductNotFound",
    "ProductView",
    "ReturnAlreadyRequested",
    "ReturnView",
    "ReturnWindowClosed",
    "StockCheck",
    "VariantView",
    "VerificationFailures",
    "normalize_order_number",
    "normalize_text",
    "rank_products",
    "shipping_cents",
]


# --------------------------------------------------------------------------- store rules


class OrderStatus(str, enum.Enum):
    """Where an order is in its life. Stored as these lowercase strings."""

    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    PREPARING = "preparing"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    RETURNED = "returned"


class DeliveryOption(str, enum.Enum):
    """How the order reaches the customer (prices in `shipping_cents`)."""

    STANDARD = "standard"
    EXPRESS = "express"
    PICKUP = "pickup"


class PaymentMethod(str, enum.Enum):
    """The payment methods the store accepts (store/facts.yml: payment_methods)."""

    CARD = "card"
    PAYPAL = "paypal"
    MERCADO_PAGO = "mercado_pago"
    SPEI = "spei"
    OXXO = "oxxo"


# Nothing has left the warehouse yet: the customer may still cancel, and we may still refund
# without a return.
CANCELLABLE_STATUSES = frozenset(
    {OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.PREPARING}
)
# The carrier does not have the parcel yet, so the address and the items (another size or
# colour of the same product) can still change.
EDITABLE_STATUSES = CANCELLABLE_STATUSES
# store/facts.yml: return_window_days, counted from delivery.
RETURN_WINDOW = timedelta(days=30)
# Order lookups are throttled per sender so that nobody can enumerate order numbers.
LOOKUP_WINDOW = timedelta(seconds=60)
LOOKUP_LIMIT_PER_MINUTE = 20
# Wrong proofs of ownership (docs/security.md). An order whose proofs failed this often within
# the window, whoever typed them, takes no more typed proofs until the window has passed: a
# caller who picks a new conversation id for every guess gets no more guesses for it. One
# source that failed this often, on any orders, is refused the same way.
VERIFICATION_WINDOW = timedelta(hours=24)
ORDER_FAILURE_LIMIT = 8
SOURCE_FAILURE_LIMIT = 10
# More than this many units of one item in a chat order is a typo or abuse, not a purchase.
MAX_LINE_QUANTITY = 10
MAX_ORDER_LINES = 20

# store/facts.yml: shipping_standard_price, shipping_free_from, shipping_express_price.
STANDARD_SHIPPING_CENTS = 9_900
FREE_SHIPPING_FROM_CENTS = 99_900
EXPRESS_SHIPPING_CENTS = 19_900


def shipping_cents(option: DeliveryOption | str, subtotal_cents: int) -> int:
    """The shipping price of an order, by delivery option and merchandise subtotal.

    Standard shipping is free from $999; express always costs $199; store pickup is free.
    Kept here (not in a backend) so the bot quotes the same price every backend charges.
    """
    option = DeliveryOption(option)
    if option is DeliveryOption.PICKUP:
        return 0
    if option is DeliveryOption.EXPRESS:
        return EXPRESS_SHIPPING_CENTS
    return 0 if subtotal_cents >= FREE_SHIPPING_FROM_CENTS else STANDARD_SHIPPING_CENTS


_ORDER_NUMBER = re.compile(r"#?\s*(\d{1,12})")


def normalize_order_number(text: str | int) -> str | None:
    """The order number in `text` as stored ("10001"), or None if it is not one.

    Customers write "#10001", " 10001 " or "10001."; anything else (letters, SQL, markup) is
    not an order number, and the backend answers OrderNotFound without querying.
    """
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return str(text) if text > 0 else None
    if not isinstance(text, str):
        return None
    match = _ORDER_NUMBER.fullmatch(text.strip().rstrip("."))
    return str(int(match.group(1))) if match else None


# --------------------------------------------------------------------------- errors


class CommerceError(Exception):
    """Base of every error a commerce backend raises on purpose (see the module tree)."""


class NotFound(CommerceError, LookupError):
    """The thing asked for does not exist."""


class OrderNotFound(NotFound):
    """No order has that number (a malformed number is reported the same way)."""

    def __init__(self, order_id: str) -> None:
        super().__init__("order not found")
        self.order_id = order_id


class ProductNotFound(NotFound):
    """No product or variant has that id or SKU."""

    def __init__(self, key: str) -> None:
        super().__init__("product not found")
        self.key = key


class InvalidOrderState(CommerceError):
    """The order's current status does not allow the action (e.g. cancelling a shipped order).

    Attributes:
        order_number: The order.
        status: Its current status.
        action: What was refused: "cancel", "change_address", "change_item" or "return".
        allowed: The statuses in which the action would have been allowed.
    """

    def __init__(
        self,
        order_number: str,
        status: OrderStatus,
        action: str,
        allowed: Iterable[OrderStatus] = (),
    ) -> None:
        super().__init__(f"cannot {action} an order that is {status.value}")
        self.order_number = order_number
        self.status = status
        self.action = action
        self.allowed = frozenset(allowed)


class ReturnAlreadyRequested(InvalidOrderState):
    """A return is already open for this order; `existing` is that return."""

    def __init__(self, order_number: str, status: OrderStatus, existing: ReturnView) -> None:
        super().__init__(order_number, status, "return")
        self.existing = existing


class ReturnWindowClosed(CommerceError):
    """The order was delivered more than RETURN_WINDOW ago; `deadline` was the last moment."""

    def __init__(self, order_number: str, deadline: datetime) -> None:
        super().__init__(f"the return window closed on {deadline:%Y-%m-%d}")
        self.order_number = order_number
        self.deadline = deadline


class OutOfStock(CommerceError):
    """Fewer than `requested` units of the variant are available (`available` may be 0)."""

    def __init__(self, sku: str, requested: int, available: int) -> None:
        super().__init__(f"{sku}: {requested} requested, {available} available")
        self.sku = sku
        self.requested = requested
        self.available = available


class InvalidRequest(CommerceError, ValueError):
    """The input was rejected before touching the store."""


class InvalidQuantity(InvalidRequest):
    """A quantity that is not an integer from 1 to MAX_LINE_QUANTITY (or too many lines)."""


class InvalidContact(InvalidRequest):
    """A malformed contact; `field` says which: "phone", "email", or "contact" (neither given)."""

    def __init__(self, field: str) -> None:
        super().__init__(f"invalid {field}")
        self.field = field


class InvalidAddress(InvalidRequest):
    """An address with an empty or oversized field; `field` says which."""

    def __init__(self, field: str) -> None:
        super().__init__(f"invalid address {field}")
        self.field = field


# --------------------------------------------------------------------------- views


@dataclass(frozen=True)
class VariantView:
    """One purchasable version of a product (a size in a colour), identified by its SKU.

    Attributes:
        sku: Stock keeping unit, unique in the store.
        product_id: The product it belongs to (`ProductView.id`).
        size: "M", "42", or "Única" for one-size items.
        colour: Colour name in Spanish ("negro"), as the store labels it.
        colour_en: The same colour in English ("black").
        price_cents: Unit price in centavos (MXN).
        stock: Units available to sell now.
    """

    sku: str
    product_id: str
    size: str
    colour: str
    colour_en: str
    price_cents: int
    stock: int

    @property
    def in_stock(self) -> bool:
        """At least one unit can be sold."""
        return self.stock > 0


@dataclass(frozen=True)
class ProductView:
    """A product and all its variants.

    Attributes:
        id: Stable product id (a slug in the demo store: "zapatillas-urbanas").
        name: Spanish name, as the catalogue shows it.
        name_en: English name.
        category: "ropa", "calzado" or "accesorios".
        variants: Every variant, in catalogue order.
        aliases: Other names customers use for it ("tenis", "sneakers"), for matching.
    """

    id: str
    name: str
    name_en: str
    category: str
    variants: tuple[VariantView, ...] = ()
    aliases: tuple[str, ...] = ()

    @property
    def in_stock(self) -> bool:
        """Some variant can be sold."""
        return any(variant.in_stock for variant in self.variants)

    @property
    def sizes(self) -> tuple[str, ...]:
        """Distinct sizes in catalogue order."""
        return tuple(dict.fromkeys(variant.size for variant in self.variants))

    @property
    def colours(self) -> tuple[str, ...]:
        """Distinct Spanish colour names in catalogue order."""
        return tuple(dict.fromkeys(variant.colour for variant in self.variants))

    @property
    def min_price_cents(self) -> int:
        """The lowest variant price ("from $249"); 0 for a product without variants."""
        return min((variant.price_cents for variant in self.variants), default=0)

    def variant(self, size: str, colour: str) -> VariantView | None:
        """The variant in that size and colour (Spanish or English, any case/accents)."""
        wanted_size = normalize_text(size)
        wanted_colour = normalize_text(colour)
        for variant in self.variants:
            if normalize_text(variant.size) == wanted_size and wanted_colour in (
                normalize_text(variant.colour),
                normalize_text(variant.colour_en),
            ):
                return variant
        return None


@dataclass(frozen=True)
class ProductMatch:
    """A `find_products` candidate: the product and how well its name matched (0..1)."""

    product: ProductView
    score: float


@dataclass(frozen=True)
class StockCheck:
    """The answer to "do you have N of this?".

    Attributes:
        sku: The variant asked about.
        requested: Units asked for.
        available: Units in stock now (no reservation: it may change before ordering).
    """

    sku: str
    requested: int
    available: int

    @property
    def ok(self) -> bool:
        """All requested units are available."""
        return self.available >= self.requested


@dataclass(frozen=True)
class Address:
    """A delivery address. `validate_address` (verification) trims and checks it.

    Attributes:
        street: Street, number and interior/neighbourhood, in one line.
        city: City or municipality.
        postal_code: Postal code (5 digits in Mexico, free-form elsewhere).
        country: ISO 3166-1 alpha-2 country code.
    """

    street: str
    city: str
    postal_code: str
    country: str = "MX"


@dataclass(frozen=True)
class OrderItemView:
    """One line of an order, as it was sold (name and price frozen at order time)."""

    sku: str
    product_name: str
    size: str
    colour: str
    quantity: int
    unit_price_cents: int

    @property
    def total_cents(self) -> int:
        """Quantity × unit price."""
        return self.quantity * self.unit_price_cents


@dataclass(frozen=True)
class OrderContacts:
    """Who an order belongs to: its phone (E.164) and email, either may be None."""

    phone: str | None
    email: str | None


@dataclass(frozen=True)
class OrderView:
    """An order with everything the bot may tell its verified owner.

    Attributes:
        number: The order number customers quote ("10001").
        status: Current status.
        customer_name: Name on the order.
        phone: Contact phone in E.164 ("+525512345678"; Mexican mobiles without the old "1"),
            or None if the customer gave only an email.
        email: Contact email, lowercase, or None if the customer gave only a phone. At least
            one of phone and email is set.
        address: Delivery address (the store's for pickup orders).
        delivery_option: Standard, express or pickup.
        payment_method: How the customer pays or paid.
        created_at: When the order was placed (UTC).
        items: The order lines.
        subtotal_cents: Sum of the lines.
        shipping_cents: Shipping charged.
        total_cents: What the customer pays.
        carrier: "Estafeta" or "DHL" once shipped, else None.
        tracking_number: The carrier's tracking number once shipped, else None.
        expected_delivery: Promised delivery date, if known.
        shipped_at: When it left the warehouse (UTC), if it did.
        delivered_at: When the carrier delivered it (UTC), if it did.
    """

    number: str
    status: OrderStatus
    customer_name: str
    phone: str | None
    email: str | None
    address: Address
    delivery_option: DeliveryOption
    payment_method: PaymentMethod
    created_at: datetime
    items: tuple[OrderItemView, ...]
    subtotal_cents: int
    shipping_cents: int
    total_cents: int
    carrier: str | None = None
    tracking_number: str | None = None
    expected_delivery: date | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None

    @property
    def can_cancel(self) -> bool:
        """Cancelling is allowed in the current status."""
        return self.status in CANCELLABLE_STATUSES

    @property
    def can_change_address(self) -> bool:
        """Changing the address is allowed in the current status."""
        return self.status in EDITABLE_STATUSES

    @property
    def can_change_items(self) -> bool:
        """Swapping a line to another size or colour (`change_item`) is allowed now."""
        return self.status in EDITABLE_STATUSES

    @property
    def return_deadline(self) -> datetime | None:
        """The last moment a return may be requested; None until delivered."""
        return self.delivered_at + RETURN_WINDOW if self.delivered_at else None


@dataclass(frozen=True)
class ReturnView:
    """A return request.

    Attributes:
        number: Return number customers quote ("R-00001").
        order_number: The order being returned.
        reason: The customer's reason, as given.
        status: "requested", "received", "refunded" or "rejected".
        created_at: When it was requested (UTC).
    """

    number: str
    order_number: str
    reason: str
    status: str
    created_at: datetime


@dataclass(frozen=True)
class CancelResult:
    """What cancelling did: the order now, its status before, and whether money goes back."""

    order: OrderView
    previous_status: OrderStatus

    @property
    def refund_due(self) -> bool:
        """The customer had paid, so the payment must be refunded."""
        return self.previous_status is not OrderStatus.PENDING_PAYMENT


@dataclass(frozen=True)
class OrderLine:
    """One line of a new order: which variant and how many."""

    sku: str
    quantity: int


@dataclass(frozen=True)
class NewOrder:
    """Everything `create_order` needs; contact and address are validated by the backend.

    The customer gives a phone, an email, or both: pass None (or a blank string) for the one
    not given. At least one is required, and whatever is given must be valid.
    """

    customer_name: str
    phone: str | None
    email: str | None
    address: Address
    delivery_option: DeliveryOption
    payment_method: PaymentMethod
    lines: tuple[OrderLine, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class VerificationFailures:
    """Recent wrong proofs of ownership for one order (from anyone) and from one source."""

    order: int
    source: int

    @property
    def locked(self) -> bool:
        """Whether no more typed proofs are taken for now."""
        return self.order >= ORDER_FAILURE_LIMIT or self.source >= SOURCE_FAILURE_LIMIT


# --------------------------------------------------------------------------- the interface


@runtime_checkable
class CommerceBackend(Protocol):
    """What the bot needs from a store. Implementations must be safe to share across threads.

    Order ids are the customer-facing order numbers ("10001"); products are found by id or
    by the SKU of one of their variants. Methods raise the errors of this module's tree.
    """

    def get_order(self, order_id: str) -> OrderView:
        """The order with that number. Raises OrderNotFound."""
        ...

    def order_contacts(self, order_id: str) -> OrderContacts | None:
        """An order's phone and email, or None when there is no such order.

        One indexed query whether or not the order exists, and nothing else loaded: a
        stranger's proof is checked against this, so an unknown order and somebody else's
        take the same time to refuse (get_order loads the items too).
        """
        ...

    def orders_for_contact(
        self, phone: str | None = None, email: str | None = None, limit: int = 20
    ) -> list[OrderView]:
        """Orders placed with that phone or email, newest first ([] when neither matches).

        Phone numbers match in any common spelling (with or without "+", Mexican mobiles
        with or without the "1" after 52); emails ignore case and surrounding spaces. An
        order placed without a phone (or email) is found only by the contact it has.
        """
        ...

    def find_products(self, query: str, limit: int = 5) -> list[ProductMatch]:
        """Products whose name resembles `query` (typos, accents, plurals tolerated), best first."""
        ...

    def get_product(self, key: str) -> ProductView:
        """A product by id, or the product of the variant with that SKU. Raises ProductNotFound."""
        ...

    def check_stock(self, sku: str, quantity: int) -> StockCheck:
        """Whether `quantity` units of the variant are available now (nothing is reserved).

        Raises ProductNotFound or InvalidQuantity.
        """
        ...

    def create_order(self, order: NewOrder) -> OrderView:
        """Places an order in pending_payment with a new number, taking its stock atomically.

        Either every line's stock is taken and the order exists, or nothing changed.
        Raises InvalidQuantity, InvalidContact (a malformed phone or email: field "phone" or
        "email"; neither given: field "contact"), InvalidAddress, ProductNotFound, OutOfStock.
        """
        ...

    def cancel_order(self, order_id: str) -> CancelResult:
        """Cancels an order that has not shipped and puts its stock back.

        Raises OrderNotFound, or InvalidOrderState after CANCELLABLE_STATUSES.
        """
        ...

    def change_address(self, order_id: str, address: Address) -> OrderView:
        """Changes the delivery address of an order the carrier does not have yet.

        Raises OrderNotFound, InvalidAddress, or InvalidOrderState after EDITABLE_STATUSES.
        """
        ...

    def change_item(self, order_id: str, sku: str, new_sku: str) -> OrderView:
        """Swaps a line to another size or colour of the same product, in the same quantity.

        Allowed while the carrier does not have the order (EDITABLE_STATUSES). Atomically:
        the new variant's stock is taken, the old one's is put back, the line gets the new
        variant's SKU, size, colour and current price, and the subtotal, shipping (same
        delivery option, `shipping_cents`) and total are recomputed, so the total changes if
        the two variants' prices differ. Either all of it happens or nothing does.

        Raises OrderNotFound; InvalidOrderState (action "change_item") after
        EDITABLE_STATUSES; ProductNotFound when `sku` is not a line of the order or
        `new_sku` does not exist; InvalidRequest when `new_sku` equals `sku`, belongs to
        another product, or is already a line of the order; OutOfStock (with `available`)
        when the new variant lacks the line's quantity.
        """
        ...

    def create_return(self, order_id: str, reason: str) -> ReturnView:
        """Opens a return for a delivered order within RETURN_WINDOW of delivery.

        Raises OrderNotFound, InvalidOrderState (not delivered), ReturnAlreadyRequested,
        or ReturnWindowClosed (with the deadline).
        """
        ...

    def record_lookup_attempt(self, sender: str) -> int:
        """Records an order lookup by `sender`; returns their lookups within LOOKUP_WINDOW.

        The count includes this attempt, and is shared by every process using the store, so
        `count > LOOKUP_LIMIT_PER_MINUTE` means "throttle this sender".
        """
        ...

    def issue_code(self, order_number: str, source: str) -> str | None:
        """A new one-time code for the order and source; None while an earlier one holds."""
        ...

    def check_code(self, order_number: str, source: str, code: str) -> CodeCheck:
        """Whether `code` is the live one-time code for the order and source (used up if so)."""
        ...

    def verification_failures(self, order_number: str, source: str) -> VerificationFailures:
        """Wrong proofs within VERIFICATION_WINDOW for this order (any source) and this source."""
        ...

    def record_verification_failure(self, order_number: str, source: str) -> VerificationFailures:
        """Records a wrong proof for `order_number` from `source`; the counts include it.

        `order_number` need not exist: unknown orders are counted like any other, so the
        counts say nothing about which orders exist.
        """
        ...


# --------------------------------------------------------------------------- fuzzy matching

# Words that carry no product meaning in a query ("una chaqueta para la lluvia").
_STOPWORDS = frozenset(
    {
        *("a", "al", "con", "de", "del", "el", "en", "la", "las", "los", "mi", "para", "por"),
        *("un", "una", "unas", "unos", "y", "quiero", "busco", "tienen", "tienes", "hay"),
        *("and", "for", "of", "the", "with", "want", "need", "looking", "have", "do", "you"),
        "any",
    }
)
_TOKEN_MATCH = 0.75  # difflib ratio from which two words count as the same word
_SHORT_WORD_MATCH = 0.86  # the same, when either word has 5 letters or fewer
_MIN_SCORE = 0.5  # below this a product is not a candidate


def normalize_text(text: str) -> str:
    """Lowercase, accents removed, punctuation as spaces: "Camiseta Básica!" → "camiseta basica"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", stripped).split())


def _stem(word: str) -> str:
    """Singular-ish form of a Spanish or English word, enough to match plurals."""
    if len(word) > 5 and word.endswith("ves"):  # scarves → scarf
        return word[:-3] + "f"
    if len(word) > 4 and word.endswith("es") and word[-3] in "lnrdzj":  # pantalones → pantalon
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):  # zapatillas
        return word[:-1]
    return word


@functools.lru_cache(maxsize=4_096)
def _tokens(text: str) -> tuple[str, ...]:
    """The meaningful word stems of `text` (cached: catalogue names are tokenized per search)."""
    return tuple(_stem(word) for word in normalize_text(text).split() if word not in _STOPWORDS)


@functools.lru_cache(maxsize=65_536)
def _similarity(left: str, right: str) -> float:
    """Similarity of two words (difflib), or 0 below the bar for "same word with a typo".

    Short words need a higher bar: one letter changes "short" into "shirt" (0.8), while
    "sapatilla" for "zapatilla" (0.89) is clearly a typo. Cached: catalogue words repeat on
    every search, and customers repeat the same words.
    """
    if left == right:
        return 1.0
    required = _SHORT_WORD_MATCH if min(len(left), len(right)) <= 5 else _TOKEN_MATCH
    # Two words whose lengths differ this much cannot reach the bar; skip difflib.
    if 2 * min(len(left), len(right)) / (len(left) + len(right)) < required:
        return 0.0
    similarity = difflib.SequenceMatcher(None, left, right, autojunk=False).ratio()
    return similarity if similarity >= required else 0.0


def _name_score(query: Sequence[str], attribute_scores: Sequence[float], name: str) -> float:
    """How well the query tokens match one product name (0..1).

    70 % is how well the query words matched (a name word, or a colour/category word at a
    discount: `attribute_scores`, one per query word), 30 % how much of the name they
    covered, so "camiseta basica" ranks "Camiseta básica" above "Camiseta estampada".
    Similarities are squared so that exact words beat near misses ("camiseta" prefers
    "Camiseta básica" to "Camisa"). A query matching no name word is not a candidate at all,
    except written as one word ("tshirt" for "T-shirt").
    """
    words = _tokens(name)
    if not words:
        return 0.0
    covered: dict[int, float] = {}
    total = 0.0
    for token, attribute in zip(query, attribute_scores, strict=True):
        best, best_index = 0.0, -1
        for index, word in enumerate(words):
            similarity = _similarity(token, word)
            if similarity > best:
                best, best_index = similarity, index
        if best > 0:
            covered[best_index] = max(covered.get(best_index, 0.0), best**2)
        total += max(best, attribute) ** 2
    if not covered:
        joined = _similarity("".join(query), "".join(words))
        return joined**2 if joined >= 0.85 else 0.0
    return 0.7 * total / len(query) + 0.3 * sum(covered.values()) / len(words)


def rank_products(
    query: str, products: Iterable[ProductView], limit: int = 5
) -> list[ProductMatch]:
    """Products whose Spanish or English name, or an alias, resembles `query`, best first.

    Tolerates case, accents, plurals and typos (difflib similarity per word), and ignores
    filler words; a query that resembles nothing returns []. Ties keep catalogue order.
    Backends without a search engine of their own use this on their catalogue.
    """
    query_tokens = _tokens(query)[:12]
    if not query_tokens or limit <= 0:
        return []
    matches = []
    for product in products:
        attributes = set(_tokens(product.category))
        for colour in {(variant.colour, variant.colour_en) for variant in product.variants}:
            attributes.update(_tokens(" ".join(colour)))
        attribute_scores = [
            0.9 * max((_similarity(token, word) for word in attributes), default=0.0)
            for token in query_tokens
        ]
        score = max(
            _name_score(query_tokens, attribute_scores, name)
            for name in (product.name, product.name_en, *product.aliases)
        )
        if score >= _MIN_SCORE:
            matches.append(ProductMatch(product, round(score, 3)))
    matches.sort(key=lambda match: match.score, reverse=True)
    return matches[:limit]
