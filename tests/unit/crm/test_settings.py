import pytest

from crm.settings import SettingsError, WebhookSettings


def test_off_without_a_url() -> None:
    settings = WebhookSettings.from_environment({})
    assert not settings.enabled
    assert settings.quiet_seconds == 30 * 60
    assert settings.max_age_seconds == 24 * 3600
    assert settings.desk_url == "http://localhost:8080"


def test_read_from_the_environment() -> None:
    settings = WebhookSettings.from_environment(
        {
            "HILO_WEBHOOK_URL": "https://crm.example/hooks",
            "HILO_WEBHOOK_SECRET": "s3cret",
            "HILO_SUMMARY_QUIET_MINUTES": "5",
            "HILO_WEBHOOK_MAX_AGE_HOURS": "48",
            "HILO_DESK_URL": "https://desk.example/",
        }
    )
    assert settings.enabled
    assert settings.quiet_seconds == 300
    assert settings.max_age_seconds == 48 * 3600
    assert settings.desk_url == "https://desk.example"
    assert "s3cret" not in repr(settings)


def test_a_url_needs_a_secret() -> None:
    with pytest.raises(SettingsError, match="HILO_WEBHOOK_SECRET"):
        WebhookSettings.from_environment({"HILO_WEBHOOK_URL": "https://crm.example"})


@pytest.mark.parametrize(
    ("name", "value"),
    [("HILO_SUMMARY_QUIET_MINUTES", "half an hour"), ("HILO_WEBHOOK_MAX_AGE_HOURS", "0")],
)
def test_bad_numbers_are_refused_with_their_name(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        WebhookSettings.from_environment({name: value})
