"""Settings refuse what they do not know: a misspelt variable or a bad value stops the
service at start-up with the variable's name, instead of being silently ignored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from server.cli import main
from server.settings import SettingsError, load_settings

pytestmark = pytest.mark.unit


def test_a_misspelt_variable_is_refused_with_a_suggestion() -> None:
    with pytest.raises(SettingsError, match=r"WATEROPS_PROT \(did you mean WATEROPS_PORT\?\)"):
        load_settings({"WATEROPS_PROT": "8080"})


def test_variables_of_other_programs_are_left_alone() -> None:
    settings = load_settings({"HOME": "/root", "WATEROPSX": "1", "WATEROPS_CONFIG": "x.toml"})
    assert settings.port == 8000


@pytest.mark.parametrize(("env", "message"), [
    ({"WATEROPS_PORT": "eighty"}, "WATEROPS_PORT: Expected `int`, got `str`"),
    ({"WATEROPS_PORT": "0"}, "WATEROPS_PORT: Expected `int` >= 1"),
    ({"WATEROPS_PORT": "70000"}, "WATEROPS_PORT: Expected `int` <= 65535"),
    ({"WATEROPS_MAX_BODY_BYTES": "-1"}, "WATEROPS_MAX_BODY_BYTES: Expected `int` >= 1"),
    ({"WATEROPS_CHANNELS": "{sms"}, "WATEROPS_CHANNELS: not valid JSON"),
    ({"WATEROPS_CHANNELS": "[1, 2]"}, "WATEROPS_CHANNELS: Expected `object`, got `array`"),
])
def test_a_bad_value_names_its_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(env)
    assert str(info.value) == message


def test_values_are_converted_to_their_types() -> None:
    s = load_settings({"WATEROPS_PORT": "8080", "WATEROPS_DEMO": "true",
                       "WATEROPS_CHANNELS": json.dumps({"sms": "json://127.0.0.1"})})
    assert (s.port, s.demo, s.channels) == (8080, True, {"sms": "json://127.0.0.1"})


def test_an_unknown_key_in_the_settings_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "waterops.toml"
    path.write_text('prot = 8080\n', encoding="utf-8")
    with pytest.raises(SettingsError, match=r"waterops.toml: prot \(did you mean port\?\)"):
        load_settings({}, path)


def test_the_environment_wins_over_the_file_and_overrides_win_over_both(tmp_path: Path) -> None:
    path = tmp_path / "waterops.toml"
    path.write_text('port = 8001\nhost = "0.0.0.0"\n', encoding="utf-8")
    s = load_settings({"WATEROPS_PORT": "8002"}, path, host="127.0.0.2")
    assert (s.port, s.host) == (8002, "127.0.0.2")


def test_the_cli_stops_with_one_line_not_a_traceback(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["migrate"], env={"WATEROPS_DATA_DIR": str(tmp_path),
                                                   "WATEROPS_PROT": "1"})
    assert r.exit_code == 1
    assert "settings: unknown setting(s): WATEROPS_PROT (did you mean WATEROPS_PORT?)" \
        in r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)


def test_serving_defaults_to_the_c_parser_and_no_access_log() -> None:
    from server.http_server import GuardedHttpTools, guarded_protocol

    settings = load_settings({})
    assert settings.access_log is False
    assert issubclass(guarded_protocol(settings), GuardedHttpTools)
    chosen = load_settings({"WATEROPS_ACCESS_LOG": "true", "WATEROPS_HTTP_PARSER": "h11",
                            "WATEROPS_HEADER_TIMEOUT_S": "3"})
    assert chosen.access_log is True
    protocol = guarded_protocol(chosen)
    assert not issubclass(protocol, GuardedHttpTools)
    assert protocol.header_timeout_s == 3.0
    with pytest.raises(SettingsError, match="WATEROPS_HTTP_PARSER"):
        load_settings({"WATEROPS_HTTP_PARSER": "picohttp"})
