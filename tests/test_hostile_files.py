"""Hostile credential files (issue 17.2, 17.8): read without interpolation; every malformed file is
a ConfigurationError naming the file and the problem, never its contents."""

from __future__ import annotations

import json

import pytest

from pulumi_fc_invocation.credentials import resolve_settings
from pulumi_fc_invocation.errors import ConfigurationError

SECRET = "Abc%(x)s-file-secret-41"


def settings_from(home, **kw):
    return resolve_settings(environ={"HOME": str(home)}, home=home, endpoint="http://127.0.0.1:9", **kw)


def write_ini(home, text):
    path = home / ".alibabacloud" / "credentials.ini"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def write_cli(home, data):
    path = home / ".aliyun" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("secret", [SECRET, "with%%double-percent", "trailing%", "%(access_key_id)s"])
def test_a_percent_in_an_ini_secret_is_kept_as_written(tmp_path, secret):
    write_ini(tmp_path, f"[default]\naccess_key_id = LTAIfileKey0001\naccess_key_secret = {secret}\n")
    assert settings_from(tmp_path).credentials.access_key_secret == secret


@pytest.mark.parametrize("text, problem", [
    (f"access_key_secret = {SECRET}\n[default]\n", "before any [profile] header"),
    (f"[default]\naccess_key_id = a\n[default]\naccess_key_secret = {SECRET}\n", "appears twice"),
    (f"[default]\naccess_key_secret = {SECRET}\naccess_key_secret = {SECRET}\n", "appears twice"),
    (f"[default]\naccess_key_id = a\n  {SECRET}\n=novalue-{SECRET}\n", "not `key = value`"),
])
def test_a_malformed_ini_names_the_file_and_the_problem_not_its_contents(tmp_path, text, problem):
    path = write_ini(tmp_path, text)
    with pytest.raises(ConfigurationError) as info:
        settings_from(tmp_path)
    assert str(path) in str(info.value) and problem in str(info.value)
    assert SECRET not in str(info.value) and "file-secret" not in str(info.value)


@pytest.mark.parametrize("data, problem", [
    ([{"name": "default", "access_key_secret": SECRET}], "top level is a JSON list"),
    ("[" * 100_000, "nested too deeply"),
    ({"profiles": {"name": "default"}}, "`profiles` is not a list"),
    ({"current": ["default"], "profiles": []}, "`current` is not a string"),
    ({"profiles": [{"name": "default", "mode": "AK", "access_key_id": 42, "access_key_secret": SECRET}]},
     "access_key_id must be a string"),
    ({"profiles": [{"name": "default", "mode": ["AK"], "access_key_id": "k", "access_key_secret": SECRET}]},
     "is not supported"),
    ({"profiles": [{"name": "default", "access_key_id": "k", "access_key_secret": SECRET, "region_id": 7}]},
     "region_id must be a string"),
])
def test_a_cli_config_of_the_wrong_shape_names_the_file_and_the_problem(tmp_path, data, problem):
    path = write_cli(tmp_path, data)
    with pytest.raises(ConfigurationError) as info:
        settings_from(tmp_path)
    assert str(path) in str(info.value) and problem in str(info.value)
    assert SECRET not in str(info.value)
