"""Settings come from env, .env and a TOML file; secrets never show."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.config import SalesforceSettings, load_settings
from connector.errors import ConfigError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("SF_INSTANCE_URL", "SF_CLIENT_ID", "SF_CLIENT_SECRET", "SF_ACCESS_TOKEN",
                 "SF_USERNAME", "SF_PASSWORD", "SF_PRIVATE_KEY_FILE", "CONNECTOR_CONFIG",
                 "MAP_KIND", "SF_LOGIN_URL"):
        monkeypatch.delenv(name, raising=False)


def test_env_beats_toml_and_secrets_are_hidden(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    toml = tmp_path / "connector.toml"
    toml.write_text('[salesforce]\nclient_id = "from-toml"\nclient_secret = "hush"\n'
                    'login_url = "https://test.salesforce.com"\n[map]\nkind = "hubspot"\n')
    monkeypatch.setenv("CONNECTOR_CONFIG", str(toml))
    monkeypatch.setenv("SF_CLIENT_ID", "from-env")
    settings = load_settings()
    assert settings.salesforce.client_id == "from-env"
    assert settings.salesforce.login_url == "https://test.salesforce.com"
    assert settings.map.kind == "hubspot"
    assert "hush" not in repr(settings.salesforce)
    assert settings.salesforce.auth_flow() == "client_credentials"


def test_dotenv_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SF_ACCESS_TOKEN=tok\nSF_INSTANCE_URL=https://x.my.salesforce.com\n")
    assert load_settings().salesforce.auth_flow() == "access_token"


@pytest.mark.parametrize(("env", "match"), [
    pytest.param({"SF_INSTANCE_URL": "http://insecure"}, "https://", id="http-refused"),
    pytest.param({"MAP_KIND": "pardot"}, "map.kind|kind", id="unknown-map"),
    pytest.param({"SF_ORG_TIMEZONE": "Mars/Olympus"}, "time zone", id="bad-tz"),
])
def test_invalid_settings_are_one_config_error(monkeypatch: pytest.MonkeyPatch,
                                               env: dict[str, str], match: str) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(ConfigError, match=match) as info:
        load_settings()
    assert info.value.exit_code == 2


def test_missing_credentials_say_which_variables_to_set() -> None:
    with pytest.raises(ConfigError, match="SF_CLIENT_ID and SF_CLIENT_SECRET"):
        SalesforceSettings(_env_file=None).auth_flow()


def test_missing_config_file_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTOR_CONFIG", "/nonexistent/connector.toml")
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings()
