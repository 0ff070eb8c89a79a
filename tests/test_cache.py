"""Where psgdiag keeps its snapshots and synced incidents: PSGDIAG_*_DIR, else platformdirs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from psgdiag.cache import cache_root, user_dir
from psgdiag.incidents.history import cache_path

xdg_only = pytest.mark.skipif(
    sys.platform in ("win32", "darwin"), reason="the XDG rule is the Linux and BSD one"
)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home folder, with no PSGDIAG_*_DIR or XDG_*_HOME set."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for var in ("PSGDIAG_CACHE_DIR", "PSGDIAG_DATA_DIR", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path / "home"


@xdg_only
def test_without_any_variable_the_folders_are_under_home(home: Path) -> None:
    assert user_dir("cache") == cache_root() == home / ".cache" / "psgdiag"
    assert user_dir("data") == home / ".local" / "share" / "psgdiag"
    assert cache_path() == home / ".local" / "share" / "psgdiag" / "incidents-synced.toml"


@xdg_only
def test_absolute_xdg_variables_are_used(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xc"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xd"))
    assert cache_root() == tmp_path / "xc" / "psgdiag"
    assert cache_path() == tmp_path / "xd" / "psgdiag" / "incidents-synced.toml"


@xdg_only
@pytest.mark.parametrize("value", ["relative/cache", ""])
def test_a_relative_or_empty_xdg_variable_is_ignored(
    home: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", value)
    monkeypatch.setenv("XDG_DATA_HOME", value)
    assert cache_root() == home / ".cache" / "psgdiag"
    assert user_dir("data") == home / ".local" / "share" / "psgdiag"


def test_psgdiag_variables_win_over_xdg_and_platform_folders(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xc"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xd"))
    monkeypatch.setenv("PSGDIAG_CACHE_DIR", str(tmp_path / "pc"))
    monkeypatch.setenv("PSGDIAG_DATA_DIR", str(tmp_path / "pd"))
    assert cache_root() == tmp_path / "pc"
    assert cache_path() == tmp_path / "pd" / "incidents-synced.toml"


def test_every_platform_gets_a_psgdiag_folder_of_its_own(home: Path) -> None:
    for kind in ("cache", "data"):
        folder = user_dir(kind)
        assert folder.is_absolute() and "psgdiag" in folder.parts, folder
    assert user_dir("cache") != user_dir("data")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG fast path")
@pytest.mark.parametrize("xdg", [None, "/srv/xdg"])
def test_the_xdg_folders_are_the_ones_platformdirs_gives(
    home: Path, xdg: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import platformdirs

    for var in ("XDG_CACHE_HOME", "XDG_DATA_HOME"):
        if xdg is None:
            monkeypatch.delenv(var, raising=False)
        else:
            monkeypatch.setenv(var, f"{xdg}/{var.lower()}")
    assert user_dir("cache") == Path(platformdirs.user_cache_dir("psgdiag"))
    assert user_dir("data") == Path(platformdirs.user_data_dir("psgdiag"))
