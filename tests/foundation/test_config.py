import pytest

from market.config import Settings, SettingsError, load_settings


def test_defaults_run_the_embedded_database():
    settings = load_settings({})
    assert settings.database_url == "sqlite:///./market.db"
    assert settings.is_sqlite
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


def test_environment_values_are_typed():
    settings = load_settings({"MARKET_PORT": "9001", "MARKET_DATABASE_URL": "postgresql://u@h/db", "PATH": "/bin"})
    assert settings.port == 9001
    assert not settings.is_sqlite


def test_settings_are_frozen():
    settings = load_settings({})
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"MARKET_PORT": "eighty"}, "MARKET_PORT"),
        ({"MARKET_PORT": "0"}, "MARKET_PORT"),
        ({"MARKET_SQLITE_SYNCHRONOUS": "OFF"}, "MARKET_SQLITE_SYNCHRONOUS"),
        ({"MARKET_DATABSE_URL": "sqlite:///x.db"}, "MARKET_DATABSE_URL"),
    ],
)
def test_bad_value_names_the_variable(env, named):
    with pytest.raises(SettingsError, match=named):
        load_settings(env)


def test_overrides_win_over_environment():
    assert load_settings({"MARKET_PORT": "9001"}, port=9002).port == 9002
    assert isinstance(load_settings({}), Settings)
