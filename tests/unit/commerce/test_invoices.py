"""Purchase receipt PDFs (fpdf2): content, languages, and text outside Latin-1."""

from __future__ import annotations

import re
import zlib
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from actions.commerce import (
    Address,
    DeliveryOption,
    OrderItemView,
    OrderStatus,
    OrderView,
    PaymentMethod,
    invoice_pdf,
)
from actions.commerce.invoices import latin1

ORDER = OrderView(
    number="10001",
    status=OrderStatus.SHIPPED,
    customer_name="Ana Martínez",
    phone="+525512345678",
    email="ana@example.com",
    address=Address("Calle Durango 210, Roma Norte", "Ciudad de México", "06700"),
    delivery_option=DeliveryOption.STANDARD,
    payment_method=PaymentMethod.CARD,
    # 02:00 UTC on the 11th is still the 10th in Mexico City.
    created_at=datetime(2025, 3, 11, 2, 0, tzinfo=timezone.utc),
    items=(
        OrderItemView("CBAS-M-NEG", "Camiseta básica", "M", "negro", 2, 24_900),
        OrderItemView("ZURB-42-BLA", "Zapatillas urbanas", "42", "blanco", 1, 129_900),
    ),
    subtotal_cents=179_700,
    shipping_cents=0,
    total_cents=179_700,
    carrier="Estafeta",
    tracking_number="EST123456789MX",
)


def page_text(pdf: bytes) -> str:
    """The text drawn on the pages (Tj strings), decoded as the core fonts encode it."""
    streams = [pdf]
    for match in re.finditer(rb"/FlateDecode.*?stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        streams.append(zlib.decompress(match.group(1)))
    strings = []
    for stream in streams:
        for raw in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", stream):
            strings.append(re.sub(rb"\\(.)", rb"\1", raw).decode("latin-1"))
    return "\n".join(strings)


def test_spanish_receipt() -> None:
    pdf = invoice_pdf(ORDER, "es", compress=False)
    assert pdf.startswith(b"%PDF")
    assert b"10001" in pdf
    text = page_text(pdf)
    for expected in ("Lumen", "Comprobante de compra", "Pedido", "10001", "10 de marzo de 2025",
                     "Ana Martínez", "Camiseta básica", "M / negro", "$249.00", "$498.00",
                     "Zapatillas urbanas", "$1,299.00", "Envío", "Gratis", "Total",
                     "$1,797.00 MXN", "CFDI"):  # fmt: skip
        assert expected in text, expected


def test_english_receipt_and_shipping_charge() -> None:
    order = replace(ORDER, items=ORDER.items[:1], subtotal_cents=49_800, shipping_cents=9_900,
                    total_cents=59_700)  # fmt: skip
    text = page_text(invoice_pdf(order, "en-US", compress=False))
    for expected in ("Purchase receipt", "Order", "March 10, 2025", "Customer", "Qty",
                     "Shipping", "$99.00", "$597.00 MXN"):  # fmt: skip
        assert expected in text, expected
    assert "Pedido" not in text


def test_compressed_by_default_with_the_same_content() -> None:
    pdf = invoice_pdf(ORDER, "es")
    assert pdf.startswith(b"%PDF")
    assert b"/FlateDecode" in pdf
    assert b"Camiseta" not in pdf  # really compressed...
    assert "Camiseta básica" in page_text(pdf)  # ...and still there


def test_same_order_same_document() -> None:
    assert invoice_pdf(ORDER, "es") == invoice_pdf(ORDER, "es")


@pytest.mark.parametrize("language", ["fr", "", "ES", "es_MX"])
def test_other_languages_get_spanish(language: str) -> None:
    assert "Comprobante de compra" in page_text(invoice_pdf(ORDER, language, compress=False))


def test_text_outside_latin1_does_not_break_the_document() -> None:
    order = replace(
        ORDER,
        customer_name="Zoë Łukasz 王 🙂 “Quoted” – ok",
        items=(OrderItemView("CBAS-M-NEG", "Camiseta básica 🎉", "M", "negro", 2, 24_900),),
    )
    text = page_text(invoice_pdf(order, "es", compress=False))
    assert 'Zoë Lukasz ? ? "Quoted" - ok' in text
    assert "Camiseta básica ?" in text


def test_receipt_for_an_order_with_one_contact() -> None:
    for order in (replace(ORDER, phone=None), replace(ORDER, email=None)):
        text = page_text(invoice_pdf(order, "es", compress=False))
        assert "Ana Martínez" in text
        assert "$1,797.00 MXN" in text


def test_latin1() -> None:
    assert latin1("Martínez Ñandú ¿Sí?") == "Martínez Ñandú ¿Sí?"
    assert latin1("Łódź") == "Lódz"
    assert latin1("Œuvre 5 €") == "OEuvre 5 EUR"
    assert latin1("😀") == "?"
    assert latin1("a\u2019b\u2026") == "a'b..."
