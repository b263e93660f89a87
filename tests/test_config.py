"""Settings: command line > environment > config file > defaults, and clear errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mock_remd.config import ConfigError, Settings


def test_precedence_cli_env_file_default(tmp_path):
    cfg = tmp_path / "remd.yaml"
    cfg.write_text(yaml.safe_dump({"port": 7000, "region": "77", "journal_size": 5, "callback_backoff": [1, 3]}))
    env = {"MOCK_REMD_CONFIG": str(cfg), "MOCK_REMD_REGION": "50", "MOCK_REMD_PORT": "7100"}
    s = Settings.load({"port": 7200}, environ=env)
    assert s.port == 7200  # command line
    assert s.region == "50"  # environment over file
    assert s.journal_size == 5 and s.callback_backoff == (1.0, 3.0)  # file
    assert s.workers == 1 and s.background_processes() == 2 and s.signatures == "digest"  # defaults


@pytest.mark.parametrize(
    ("env", "word"),
    [
        ({"MOCK_REMD_SIGNATURES": "strong"}, "MOCK_REMD_SIGNATURES"),
        ({"MOCK_REMD_VALIDATION": "xml,spelling"}, "spelling"),
        ({"MOCK_REMD_PORT": "eighty"}, "MOCK_REMD_PORT"),
        ({"MOCK_REMD_PACKS_DIR": "/no/such/dir"}, "MOCK_REMD_PACKS_DIR"),
        ({"MOCK_REMD_NSI_UNKNOWN_VERSION": "sometimes"}, "MOCK_REMD_NSI_UNKNOWN_VERSION"),
        ({"MOCK_REMD_CONFIG": "/no/such.yaml"}, "MOCK_REMD_CONFIG"),
        ({"MOCK_REMD_STREEBOG": "fastest"}, "MOCK_REMD_STREEBOG"),
        ({"MOCK_REMD_GOST_VERIFY": "hardware"}, "MOCK_REMD_GOST_VERIFY"),
    ],
)
def test_bad_values_name_the_setting(env, word):
    with pytest.raises(ConfigError) as exc:
        Settings.load({}, environ=env).check()
    assert word in str(exc.value)


def test_unknown_config_keys_are_refused(tmp_path):
    cfg = tmp_path / "remd.yaml"
    cfg.write_text("prot: 8080\n")
    with pytest.raises(ConfigError, match="prot"):
        Settings.load({}, environ={"MOCK_REMD_CONFIG": str(cfg)})


def test_nsi_options_reach_the_nsi_layer(nsi_export_dir, valid_119_bytes):
    from mock_remd.validation.pipeline import Validator

    base = {"MOCK_REMD_NSI_DIR": str(nsi_export_dir), "MOCK_REMD_VALIDATION": "xml,kind,nsi"}
    strict = Validator(Settings.load({}, environ=base).validation_settings()).validate(valid_119_bytes, kind="119")
    lenient = Validator(Settings.load({}, environ={**base, "MOCK_REMD_NSI_UNKNOWN_VERSION": "latest"})
                        .validation_settings()).validate(valid_119_bytes, kind="119")
    codes = [f.code for f in strict.layer("nsi").findings]
    # the example uses older dictionary versions (1522 v4.45) than the exports (v7.24)
    assert "INVALID_DICTIONARY_VERSION" in codes
    assert lenient.layer("nsi").ran and lenient.layer("nsi").passed, lenient.layer("nsi").findings


def test_serve_uses_what_nsi_import_wrote_by_default(tmp_path, monkeypatch, nsi_export_dir):
    """``mock-remd nsi import FILE`` writes to ``.mock-remd/nsi``; a server started in that folder without
    MOCK_REMD_NSI_DIR runs the nsi layer with it (as ``validate`` does) instead of asking for the import."""
    from mock_remd.cli.main import main
    from mock_remd.runtime import Runtime

    monkeypatch.chdir(tmp_path)
    assert Settings.load({}, environ={}).validation_settings().nsi_dir is None
    assert main(["nsi", "import", str(next(nsi_export_dir.glob("1.2.643.5.1.13.13.11.1522_*")))]) == 0
    settings = Settings.load({"db_url": "sqlite://"}, environ={})
    assert settings.validation_settings().nsi_dir == Path(".mock-remd/nsi")
    rt = Runtime(settings)
    try:
        gaps = rt.material()["layers_without_material"]
    finally:
        rt.stop()
    assert "nsi" not in [g["layer"] for g in gaps]


def test_version_and_link_settings(tmp_path):
    env = {"MOCK_REMD_VERSIONS_FORBIDDEN_KINDS": "230, 58", "MOCK_REMD_VERSION_ASSOCIATION_TYPES": "rplc,1",
           "MOCK_REMD_ASSOCIATION_TYPES": "1=Новая версия;2=Дополнение", "MOCK_REMD_VERSIONS_STRICT": "true"}
    options = Settings.load(environ=env).lifecycle_options()
    assert options.forbidden_kinds == {"230", "58"} and options.version_types == {"RPLC", "1"}
    assert options.names == {"1": "Новая версия", "2": "Дополнение"} and options.strict
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"association_types": {"7": "Связь"}, "association_checks": "sync"}),
                      encoding="utf-8")
    from_file = Settings.load({"config": str(config)}, environ={})
    assert from_file.lifecycle_options().names == {"7": "Связь"}
    assert from_file.lifecycle_options().association_checks == "sync"
    with pytest.raises(ConfigError, match="association_checks|ASSOCIATION_CHECKS"):
        Settings.load({"association_checks": "later"}, environ={}).check()
    defaults = Settings.load(environ={}).lifecycle_options()
    assert defaults.forbidden_kinds == {"230"} and defaults.version_types == {"RPLC"} and not defaults.strict


def test_association_types_must_be_a_mapping(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("association_types: [RPLC]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="ASSOCIATION_TYPES.*mapping"):
        Settings.load({"config": str(config)}, environ={})


def test_defaults_from_the_environment_are_read_here_once(tmp_path):
    """config.py resolves the environment-dependent defaults; nothing below reads the environment."""
    from mock_remd.config import default_cache_dir, default_nsi_dir, environment_value

    loaded = Settings.load({}, environ={"XDG_CACHE_HOME": str(tmp_path)})
    assert loaded.cache_dir == str(tmp_path / "mock-remd")
    assert Settings.load({}, environ={"MOCK_REMD_CACHE_DIR": "/c"}).cache_dir == "/c"
    assert default_cache_dir({"XDG_CACHE_HOME": "/x"}).as_posix() == "/x/mock-remd"
    assert default_nsi_dir({"MOCK_REMD_NSI_DIR": " /n "}).as_posix() == "/n"
    assert environment_value("MOCK_REMD_ADMIN_TOKEN", {"MOCK_REMD_ADMIN_TOKEN": "  "}) is None
    assert Settings().cache_dir == ""  # built by hand: compiled Schematrons stay in memory


def test_background_environment_sets_glibc_tuning_unless_the_user_did():
    from mock_remd.config import BACKGROUND_TCACHE_COUNT, background_environment, serve_environment

    assert "GLIBC_TUNABLES" not in serve_environment({"PATH": "/bin"})
    env = background_environment({"PATH": "/bin"})
    assert env["MALLOC_ARENA_MAX"] == "2"
    assert env["GLIBC_TUNABLES"] == f"glibc.malloc.tcache_count={BACKGROUND_TCACHE_COUNT}"
    # other tunables of the user are kept, their own tcache_count and arenas win
    env = background_environment({"GLIBC_TUNABLES": "glibc.malloc.mxfast=0", "MALLOC_ARENA_MAX": "4"})
    assert env["GLIBC_TUNABLES"] == f"glibc.malloc.mxfast=0:glibc.malloc.tcache_count={BACKGROUND_TCACHE_COUNT}"
    assert env["MALLOC_ARENA_MAX"] == "4"
    mine = "glibc.malloc.tcache_count=16:glibc.malloc.mxfast=0"
    assert background_environment({"GLIBC_TUNABLES": mine})["GLIBC_TUNABLES"] == mine
