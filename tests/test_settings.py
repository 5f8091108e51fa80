"""Settings from the environment: list values as Terraform and shells pass them."""

from __future__ import annotations

import pytest

from core.settings import Settings


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("a,b", ["a", "b"]), (" a , b ,", ["a", "b"]), ('["a", "b,c"]', ["a", "b,c"]), ("", [])],
)
def test_token_and_origin_lists_accept_commas_or_json(monkeypatch, raw: str, expected: list[str]) -> None:
    monkeypatch.setenv("STREAMSCOPE_API_TOKENS", raw)
    monkeypatch.setenv("STREAMSCOPE_CORS_ORIGINS", raw)
    settings = Settings()
    assert settings.api_tokens == expected
    assert settings.cors_origins == expected


def test_topics_are_fully_qualified_and_dead_letters_follow_them() -> None:
    settings = Settings(frames_topic="f")
    assert settings.frames_topic_fqn == "persistent://public/default/f"
    assert settings.dead_letter_topic("f") == "persistent://public/default/f-dlq"
    assert settings.topic("persistent://tenant/ns/x") == "persistent://tenant/ns/x"


def test_the_broker_is_a_setting_never_guessed_from_the_url(monkeypatch) -> None:
    monkeypatch.delenv("STREAMSCOPE_BROKER", raising=False)
    monkeypatch.setenv("STREAMSCOPE_PULSAR_URL", "pulsar://127.0.0.1:6650")
    assert Settings().broker == "embedded"  # a URL alone does not make it a real cluster
    monkeypatch.setenv("STREAMSCOPE_BROKER", "pulsar")
    assert Settings().broker == "pulsar"
    monkeypatch.setenv("STREAMSCOPE_PULSAR_URL", "")
    with pytest.raises(ValueError, match="STREAMSCOPE_PULSAR_URL"):
        Settings()
    monkeypatch.setenv("STREAMSCOPE_BROKER", "kafka")
    with pytest.raises(ValueError, match="broker"):
        Settings()
