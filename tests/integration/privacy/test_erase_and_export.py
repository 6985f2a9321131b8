"""One person across every store Hilo writes, exported whole, then erased everywhere.

The real processes (Rasa with the trained model, the action server, the desk) on SQLite files
and on PostgreSQL. Ana, the owner of order 10001, writes on WhatsApp through Twilio (her name,
an email, a sentence nobody else writes), asks where her order is and for its invoice (a PDF
the bot makes), sends a photo, and asks for a person, who writes to her and leaves a note;
then she writes from Telegram and shares her phone there, which links the two. Another
customer writes and sends a photo too.

`hilo privacy export` must hand over every piece; `hilo privacy erase` must then leave no
trace of her phone, emails, name or sentence in any table of any database or in any file
under the media directory, while the other customer's data and the order's amounts stay.
"""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import ROOT
from tests.support.databases import postgres_schema
from tests.support.fake_provider import FakeProvider
from tests.support.polling import eventually
from tests.support.servers import BIN, HiloProcesses
from tests.support.telegram_bot_api import CREDENTIALS as TELEGRAM_CREDENTIALS
from tests.support.telegram_bot_api import BotApi, TelegramCustomer
from tests.support.telegram_bot_api import env as telegram_env
from tests.support.twilio_whatsapp import CREDENTIALS as TWILIO_CREDENTIALS
from tests.support.twilio_whatsapp import TwilioWhatsApp

pytestmark = pytest.mark.model

PHONE = "+5215512345678"  # Ana's WhatsApp; order 10001 stores it as +525512345678
NAME = "Ana Martínez"
TYPED_EMAIL = "ana.privada@correo-ejemplo.mx"
SENTENCE = "mi perico turquesa se llama Bartolomeo"
NOTE = "Ana Martínez prefiere entrega en la tarde"
# What must be gone: the phone in every spelling Hilo or a provider uses, both emails (the
# order's and the one she typed), her name, and what she wrote.
TRACES = (
    "5512345678",
    "ana@example.com",
    TYPED_EMAIL,
    "Martínez",
    "Martinez",
    "Calle Durango",
    "Bartolomeo",
    "perico turquesa",
)
TELEGRAM_CHAT = 7_700_001
# Her Telegram chat id names her as much as her phone does.
TRACES = (*TRACES, str(TELEGRAM_CHAT))
OTHER_PHONE = "+5215587654321"
OTHER_SENTENCE = "mi gato naranja se llama Pancracio"
# The photos are told apart by their colour: Hilo strips their metadata (comments included).
ANA_COLOUR = (200, 120, 40)
OTHER_COLOUR = (30, 90, 210)


def jpeg(colour: tuple[int, int, int]) -> bytes:
    """A small real JPEG of one colour."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def is_photo_of(data: bytes, colour: tuple[int, int, int]) -> bool:
    """Whether `data` decodes to an image of about that colour."""
    from PIL import Image, UnidentifiedImageError

    try:
        pixel = Image.open(io.BytesIO(data)).convert("RGB").getpixel((16, 12))
    except (UnidentifiedImageError, OSError):
        return False
    return all(abs(a - b) <= 12 for a, b in zip(pixel, colour, strict=True))


@pytest.fixture(params=["sqlite", "postgresql"])
def hilo(
    request: pytest.FixtureRequest, model_path: Path, tmp_path: Path, whatsapp: TwilioWhatsApp
) -> Iterator[tuple[HiloProcesses, BotApi]]:
    telegram = FakeProvider()
    bot_api = BotApi(telegram)
    credentials = TWILIO_CREDENTIALS + TELEGRAM_CREDENTIALS + "handoff.plugin.HandoffPlugin:\n"
    env = {**whatsapp.env(), **telegram_env(telegram)}

    def start(database_url: str | None) -> HiloProcesses:
        processes = HiloProcesses(
            model=model_path,
            workdir=tmp_path,
            credentials=credentials,
            env=env,
            database_url=database_url,
        )
        processes.start_actions()
        processes.start_rasa()
        processes.start_desk()
        processes.desk_user("sofia", "supervisor", "Sofía")
        return processes

    try:
        if request.param == "sqlite":
            processes = start(None)
            yield processes, bot_api
            processes.stop()
        else:
            with postgres_schema("hilo_privacy_e2e") as url:
                processes = start(url)
                yield processes, bot_api
                processes.stop()
    finally:
        telegram.close()


def seed_ana_everywhere(hilo: HiloProcesses, whatsapp: TwilioWhatsApp, bot_api: BotApi) -> None:
    """Ana in every store; another customer beside her."""
    whatsapp.send(
        hilo.url,
        PHONE,
        f"hola soy {NAME}, mi correo es {TYPED_EMAIL}. {SENTENCE}",
        profile_name=NAME,
    )
    whatsapp.replies_to(PHONE, 1)
    whatsapp.send(hilo.url, PHONE, "donde esta mi pedido 10001?", profile_name=NAME)
    whatsapp.replies_to(PHONE, 2)
    whatsapp.send(hilo.url, PHONE, "necesito la factura del pedido 10001", profile_name=NAME)
    whatsapp.replies_to(PHONE, 3)
    whatsapp.send_media(
        hilo.url, PHONE, jpeg(ANA_COLOUR), "image/jpeg", "asi llego la caja", profile_name=NAME
    )
    whatsapp.send(hilo.url, PHONE, "quiero hablar con una persona porfa", profile_name=NAME)
    desk = hilo.desk_login("sofia")
    case = eventually(lambda: (desk.get("/api/cases").json()["cases"] or [None])[0], "a case")
    assert desk.post(f"/api/cases/{case['id']}/claim").status_code == 200
    reply = {"text": "Hola Ana, ya revisé tu caja, te mandamos otra"}
    assert desk.post(f"/api/cases/{case['id']}/messages", json=reply).status_code == 200
    assert desk.post(f"/api/cases/{case['id']}/notes", json={"text": NOTE}).status_code in (
        200,
        201,
    )
    resolved = desk.post(f"/api/cases/{case['id']}/resolve", json={"return_to_bot": True})
    assert resolved.status_code == 200
    eventually(
        lambda: desk.get(f"/api/cases/{case['id']}").json()["case"]["status"] == "bot",
        "the hand-back",
    )
    ana_on_telegram = TelegramCustomer(TELEGRAM_CHAT, "Ana")
    ana_on_telegram.say(hilo.url, f"hola, soy {NAME} otra vez desde telegram")
    ana_on_telegram.share_own_contact(hilo.url, PHONE)
    bot_api.sent("sendMessage", 1)
    whatsapp.send(hilo.url, OTHER_PHONE, f"hola! {OTHER_SENTENCE}", profile_name="Beto")
    whatsapp.send_media(hilo.url, OTHER_PHONE, jpeg(OTHER_COLOUR), "image/jpeg", "foto")
    whatsapp.replies_to(OTHER_PHONE, 1)
    settled(hilo)


def settled(hilo: HiloProcesses) -> None:
    """Every customer message has had its turn."""

    def done() -> bool:
        with engine(hilo, "channels") as connection:
            open_rows = connection.execute(
                sa.text(
                    "SELECT count(*) FROM channel_inbound WHERE status IN ('pending', 'processing')"
                )
            ).scalar()
        return open_rows == 0

    eventually(done, "every turn")


class engine:  # used as a context manager, like sqlalchemy's connect
    """A connection to one of the stores of `hilo` (SQLite file or the PostgreSQL schema)."""

    def __init__(self, hilo: HiloProcesses, store: str) -> None:
        urls = {
            "channels": hilo.database_url or f"sqlite:///{hilo.channels_db}",
            "tracker": hilo.database_url or f"sqlite:///{hilo.tracker_db}",
            "commerce": hilo.commerce_url,
        }
        self._engine = sa.create_engine(urls[store], future=True)

    def __enter__(self) -> sa.engine.Connection:
        self._connection = self._engine.connect()
        return self._connection

    def __exit__(self, *exc: object) -> None:
        self._connection.close()
        self._engine.dispose()


def every_row(hilo: HiloProcesses) -> dict[str, list[str]]:
    """Every row of every table of every database, as text, by table."""
    urls = (
        {hilo.database_url}
        if hilo.database_url
        else {
            f"sqlite:///{hilo.channels_db}",
            f"sqlite:///{hilo.tracker_db}",
            hilo.commerce_url,
        }
    )
    found: dict[str, list[str]] = {}
    for url in urls:
        database = sa.create_engine(url, future=True)
        try:
            with database.connect() as connection:
                for table in sa.inspect(connection).get_table_names():
                    # Table names from the database's own catalogue, not from input.
                    rows = connection.execute(sa.text(f'SELECT * FROM "{table}"')).all()  # noqa: S608
                    found.setdefault(table, []).extend(
                        json.dumps([str(value) for value in row], ensure_ascii=False)
                        for row in rows
                    )
        finally:
            database.dispose()
    return found


def media_files(hilo: HiloProcesses) -> dict[str, bytes]:
    media = hilo.workdir / "media"
    return {
        str(path.relative_to(media)): path.read_bytes()
        for path in sorted(media.rglob("*"))
        if path.is_file()
    }


def hilo_command(hilo: HiloProcesses, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [str(BIN / "hilo"), *arguments],
        cwd=ROOT,
        env=hilo.environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_person_is_exported_whole_then_erased_from_every_store(
    hilo: tuple[HiloProcesses, BotApi], whatsapp: TwilioWhatsApp, tmp_path: Path
) -> None:
    processes, bot_api = hilo
    seed_ana_everywhere(processes, whatsapp, bot_api)
    before = every_row(processes)
    files_before = media_files(processes)
    everything_before = "\n".join(row for rows in before.values() for row in rows).lower()
    for trace in TRACES:  # each was there to be found (the unaccented name may not be)
        assert trace.lower() in everything_before or trace == "Martinez", trace
    ana_files = {name for name, data in files_before.items() if is_photo_of(data, ANA_COLOUR)}
    assert ana_files, "her photo is in the media store"
    pdfs = {name for name, data in files_before.items() if data.startswith(b"%PDF")}
    assert pdfs, "the invoice the bot made is in the media store"

    # Access request: one archive with everything.
    archive = tmp_path / "ana.zip"
    exported = hilo_command(processes, "privacy", "export", "--phone", PHONE, "--out", str(archive))
    assert exported.returncode == 0, exported.stderr
    with zipfile.ZipFile(archive) as bundle:
        names = bundle.namelist()
        text = "\n".join(
            bundle.read(name).decode("utf-8", "replace") for name in names if name.endswith(".json")
        )
        blobs = [bundle.read(name) for name in names if name.startswith("media/")]
    assert SENTENCE in text  # what she wrote
    assert "ya revisé tu caja" in text  # what the agent wrote to her
    assert "desde telegram" in text  # the linked Telegram conversation
    assert "10001" in text  # her order as the bot saw it
    assert "EST123456789MX" in text
    assert any(is_photo_of(blob, ANA_COLOUR) for blob in blobs)  # the photo itself
    assert any(blob.startswith(b"%PDF") for blob in blobs)  # the invoice itself
    assert OTHER_SENTENCE not in text
    assert not any(is_photo_of(blob, OTHER_COLOUR) for blob in blobs)

    # Erasure, twice (idempotent).
    for _ in range(2):
        erased = hilo_command(
            processes, "privacy", "erase", "--phone", PHONE, "--reason", "ARCO request 17", "--yes"
        )
        assert erased.returncode == 0, erased.stderr

    after = every_row(processes)
    for table, rows in after.items():
        for row in rows:
            for trace in TRACES:
                assert trace.lower() not in row.lower(), f"{table} still holds {trace!r}: {row}"
    files_after = media_files(processes)
    for name, data in files_after.items():
        for trace in TRACES:
            assert trace.encode() not in data, f"media/{name} still holds {trace!r}"
        assert not is_photo_of(data, ANA_COLOUR), f"media/{name} is her photo"
    assert not ana_files & files_after.keys()
    assert not pdfs & files_after.keys()
    # The other customer is untouched; the order's amounts stay for the books.
    assert any(OTHER_SENTENCE in row for rows in after.values() for row in rows)
    assert any(is_photo_of(data, OTHER_COLOUR) for data in files_after.values())
    orders = {row for row in after["orders"] if "10001" in row}
    assert orders, "order 10001 is kept (amounts, items), without her contact details"
    assert len(after["orders"]) == len(before["orders"])
    # The erasure is on record, without what was erased.
    audit = [row for table, rows in after.items() if "privacy" in table for row in rows]
    assert audit
    assert "ARCO request 17" in "\n".join(audit)

    # She writes again: a new conversation, nothing of the old one.
    whatsapp.send(processes.url, PHONE, "hola de nuevo", profile_name="A")
    settled(processes)
    with engine(processes, "tracker") as connection:
        user_texts = [
            json.loads(data).get("text", "")
            for (data,) in connection.execute(
                sa.text("SELECT data FROM events WHERE type_name = 'user' AND sender_id LIKE :p"),
                {"p": f"%{PHONE[-10:]}%"},
            )
        ]
    assert user_texts == ["hola de nuevo"]
