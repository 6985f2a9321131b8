"""Purchase receipts as PDF, in Spanish or English, from an `OrderView`.

The bot sends this when a customer asks for their "factura". It is a purchase receipt, not a
Mexican tax invoice (CFDI): issuing a CFDI needs the customer's RFC and a certified provider
(PAC), so the receipt says where to request one.

fpdf2's core fonts (Helvetica) cover Latin-1, which has every Spanish letter ("Martínez",
"Ñ", "¿"); text outside it (emoji, other scripts) is transliterated when it has a Latin base
letter and replaced with "?" otherwise, rather than failing the whole document.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

from fpdf import FPDF

from actions.commerce.backend import OrderView
from actions.commerce.locale import MONTHS, local, money

__all__ = ["STORE_NAME", "invoice_pdf", "latin1"]

STORE_NAME = "Lumen"
STORE_DETAILS = "lumen.example · ayuda@lumen.example · WhatsApp +52 55 5000 1234"

_LABELS = {
    "es": {
        "title": "Comprobante de compra",
        "order": "Pedido",
        "date": "Fecha",
        "customer": "Cliente",
        "ship_to": "Envío a",
        "product": "Producto",
        "variant": "Talla / color",
        "quantity": "Cant.",
        "unit_price": "Precio",
        "amount": "Importe",
        "subtotal": "Subtotal",
        "shipping": "Envío",
        "free": "Gratis",
        "total": "Total",
        "prices": "Precios en pesos mexicanos (MXN), IVA incluido.",
        "cfdi": "Este comprobante no es un CFDI. Para solicitar tu factura fiscal escribe a "
        "ayuda@lumen.example con tu número de pedido y tus datos fiscales.",
    },
    "en": {
        "title": "Purchase receipt",
        "order": "Order",
        "date": "Date",
        "customer": "Customer",
        "ship_to": "Ship to",
        "product": "Product",
        "variant": "Size / colour",
        "quantity": "Qty",
        "unit_price": "Price",
        "amount": "Amount",
        "subtotal": "Subtotal",
        "shipping": "Shipping",
        "free": "Free",
        "total": "Total",
        "prices": "Prices in Mexican pesos (MXN), VAT included.",
        "cfdi": "This receipt is not a Mexican tax invoice (CFDI). To request one, email "
        "ayuda@lumen.example with your order number and tax details.",
    },
}


# Letters with no Unicode decomposition to a Latin-1 letter, spelled the usual way instead.
_TRANSLITERATION = str.maketrans(
    {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Œ": "OE", "œ": "oe", "ı": "i", "€": "EUR"}
)


def latin1(text: str) -> str:
    """`text` limited to Latin-1 (what the PDF core fonts can draw).

    Characters outside it lose their accents if that brings them into Latin-1 ("Ł" → "L",
    "ő" → "o") and become "?" otherwise; typographic punctuation is mapped to ASCII.
    """
    text = (
        text.translate(_TRANSLITERATION)
        .replace("·", "-")
        .replace("\u2013", "-")
        .replace("\u2014", "-")
        .replace("\u2018", "'")
        .replace("\u2019", "'")
        .replace("\u201c", '"')
        .replace("\u201d", '"')
        .replace("\u2026", "...")
    )
    out = []
    for char in text:
        if ord(char) < 256:
            out.append(char)
            continue
        base = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        out.append(base if base and all(ord(c) < 256 for c in base) else "?")
    return "".join(out)


def _date(moment: datetime, language: str) -> str:
    moment = local(moment)
    month = MONTHS[language][moment.month - 1]
    if language == "es":
        return f"{moment.day} de {month} de {moment.year}"
    return f"{month} {moment.day}, {moment.year}"


def invoice_pdf(order: OrderView, language: str = "es", *, compress: bool = True) -> bytes:
    """The purchase receipt of `order` as a PDF document.

    Args:
        order: The order (any status; the bot decides whether to offer a receipt).
        language: "es" or "en" (also "es-MX", "en_US"); anything else gets Spanish, the
            store's language.
        compress: Deflate the page content (smaller); tests turn it off to read the text.

    Returns:
        The PDF bytes (starting with b"%PDF").
    """
    lang = "en" if str(language).lower().startswith("en") else "es"
    labels = _LABELS[lang]

    pdf = FPDF(format="A4")
    pdf.set_compression(compress)
    # Fixed metadata: the same order gives the same document, whenever it is generated.
    pdf.set_creation_date(order.created_at)
    pdf.set_title(latin1(f"{labels['title']} {order.number}"))
    pdf.set_author(STORE_NAME)
    pdf.set_creator(STORE_NAME)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    width = pdf.epw

    def text(value: str) -> str:
        return latin1(value)

    pdf.set_font("Helvetica", "B", 22)
    pdf.cell(width / 2, 10, STORE_NAME)
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(width / 2, 10, text(labels["title"]), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(width, 5, text(STORE_DETAILS), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)

    pdf.set_font("Helvetica", "", 11)
    address = order.address
    rows = (
        (labels["order"], order.number),
        (labels["date"], _date(order.created_at, lang)),
        (labels["customer"], order.customer_name),
        (
            labels["ship_to"],
            f"{address.street}, {address.postal_code} {address.city}, {address.country}",
        ),
    )
    for label, value in rows:
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(32, 7, text(label))
        pdf.set_font("Helvetica", "", 11)
        pdf.multi_cell(width - 32, 7, text(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    columns = (
        (labels["product"], 0.38, "L"),
        (labels["variant"], 0.22, "L"),
        (labels["quantity"], 0.10, "R"),
        (labels["unit_price"], 0.15, "R"),
        (labels["amount"], 0.15, "R"),
    )
    pdf.set_font("Helvetica", "B", 10)
    pdf.set_fill_color(235, 235, 235)
    for label, share, align in columns:
        pdf.cell(width * share, 8, text(label), border="B", align=align, fill=True)
    pdf.ln()
    pdf.set_font("Helvetica", "", 10)
    for item in order.items:
        values = (
            item.product_name,
            f"{item.size} / {item.colour}",
            str(item.quantity),
            money(item.unit_price_cents),
            money(item.total_cents),
        )
        for value, (_label, share, align) in zip(values, columns, strict=True):
            pdf.cell(width * share, 7, text(value)[:60], align=align)
        pdf.ln()
    pdf.ln(2)

    shipping = money(order.shipping_cents) if order.shipping_cents else labels["free"]
    totals = (
        (labels["subtotal"], money(order.subtotal_cents), ""),
        (labels["shipping"], shipping, ""),
        (labels["total"], f"{money(order.total_cents)} MXN", "B"),
    )
    for label, value, style in totals:
        pdf.set_font("Helvetica", style, 11)
        pdf.cell(width * 0.70, 7, text(label), align="R")
        pdf.cell(width * 0.30, 7, text(value), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)

    pdf.set_font("Helvetica", "", 8)
    pdf.multi_cell(width, 4, text(labels["prices"]), new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(width, 4, text(labels["cfdi"]), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
