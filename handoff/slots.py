"""The bot's slots as the desk shows them: a label in each language, a type, which can be added.

The case view (`GET /api/cases/{id}`) sends these with every case, so the page keeps no copy
of the domain's slot names (domain.yml). Which slots an agent may correct is the case's rule
(handoff/case.py `CORRECTABLE_SLOTS`, sent as each case's `correctable`); a slot added on
the card is one of those.
"""

from __future__ import annotations

from typing import Any

# name: (Spanish, English)
LABELS: dict[str, tuple[str, str]] = {
    "order_id": ("Número de pedido", "Order number"),
    "product": ("Producto", "Product"),
    "product_size": ("Talla", "Size"),
    "product_colour": ("Color", "Colour"),
    "quantity": ("Cantidad", "Quantity"),
    "customer_name": ("Nombre", "Name"),
    "contact": ("Contacto", "Contact"),
    "verified_contact": ("Contacto verificado", "Verified contact"),
    "delivery_street": ("Calle y número", "Street"),
    "delivery_city": ("Ciudad", "City"),
    "delivery_postal_code": ("Código postal", "Postal code"),
    "delivery_option": ("Entrega", "Delivery"),
    "pickup_store": ("Tienda de recogida", "Pickup store"),
    "payment_method": ("Forma de pago", "Payment method"),
    "payment_problem": ("Problema de pago", "Payment problem"),
    "return_reason": ("Motivo de la devolución", "Return reason"),
    "return_photo": ("Foto de la devolución", "Return photo"),
    "return_outcome": ("Resultado de la devolución", "Return outcome"),
    "change_kind": ("Tipo de cambio", "Change type"),
    "change_item": ("Artículo a cambiar", "Item to change"),
    "change_new_variant": ("Nueva variante", "New variant"),
    "change_confirmed": ("Cambio confirmado", "Change confirmed"),
    "change_outcome": ("Resultado del cambio", "Change outcome"),
    "cancel_confirmed": ("Cancelación confirmada", "Cancellation confirmed"),
    "order_confirmed": ("Pedido confirmado", "Order confirmed"),
    "order_correction_pending": ("Corrección pendiente", "Correction pending"),
    "handoff_reason": ("Motivo del traspaso", "Handoff reason"),
    "handoff_outcome": ("Resultado del traspaso", "Handoff outcome"),
    "language": ("Idioma", "Language"),
}
# How the card edits a slot whose value the bot has not set (set values keep their JSON type).
TYPES: dict[str, str] = {
    "quantity": "number",
    "change_confirmed": "bool",
    "cancel_confirmed": "bool",
    "order_confirmed": "bool",
    "order_correction_pending": "bool",
}
# What an agent can add on the card when the bot did not collect it, in the card's order;
# each is correctable (tests/unit/handoff/test_slots.py).
ADDABLE: tuple[str, ...] = (
    "order_id", "product", "product_size", "product_colour", "quantity", "customer_name",
    "contact", "delivery_street", "delivery_city", "delivery_postal_code", "delivery_option",
    "payment_method", "return_reason",
)  # fmt: skip


def slot_facts() -> dict[str, Any]:
    """`{"slots": {name: {"es", "en", "type"}}, "addable_slots": [name]}` for the case view."""
    return {
        "slots": {
            name: {"es": es, "en": en, "type": TYPES.get(name, "text")}
            for name, (es, en) in LABELS.items()
        },
        "addable_slots": list(ADDABLE),
    }
