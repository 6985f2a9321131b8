"""The bot's email goes to a real SMTP server, to development's mail folder, or nowhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions.mailer import MailError, mail_available, send_mail
from tests.conftest import free_port
from tests.support.smtp import MailServer


def test_an_email_reaches_the_smtp_server(monkeypatch: pytest.MonkeyPatch) -> None:
    server = MailServer()
    try:
        monkeypatch.setenv("HILO_SMTP_URL", server.url)
        monkeypatch.setenv("HILO_MAIL_FROM", "Tienda <pedidos@tienda.example>")
        send_mail("ana@example.com", "Tu código", "Tu código es 123456.")
        (message,) = server.to("ana@example.com")
        assert message["From"] == "Tienda <pedidos@tienda.example>"
        assert server.latest_code("ana@example.com") == "123456"
    finally:
        server.close()


def test_a_server_that_does_not_answer_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HILO_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")
    with pytest.raises(MailError):
        send_mail("ana@example.com", "s", "t")


def test_development_without_a_server_writes_the_mail_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("HILO_SMTP_URL", raising=False)
    monkeypatch.delenv("HILO_ENV", raising=False)
    monkeypatch.setenv("HILO_VAR_DIR", str(tmp_path))
    assert mail_available()
    send_mail("ana@example.com", "Tu código", "Tu código es 123456.")
    (saved,) = (tmp_path / "mail").glob("*.eml")
    assert b"123456" in saved.read_bytes()


def test_production_without_a_server_sends_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HILO_SMTP_URL", raising=False)
    monkeypatch.setenv("HILO_ENV", "production")
    assert not mail_available()
    with pytest.raises(MailError):
        send_mail("ana@example.com", "s", "t")
