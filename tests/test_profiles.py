"""Profiles that extend another: merged key by key, cycles refused, the merged result validated."""

import pytest

from ghippo_conformance.deployment import profile

ACCESS_KEY_PROFILES = {
    "d.run": "d.run: the access key is the bearer",
    "ai-platform": "AI platform: the access key is the bearer",
}


def write(path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def without_names(settings: dict) -> dict:
    return {key: value for key, value in settings.items() if key not in ("name", "description")}


@pytest.mark.parametrize(("name", "description"), ACCESS_KEY_PROFILES.items())
def test_builtin_extending_dce5_differs_from_it_only_in_name_and_description(name, description):
    extending = profile.load(name).as_dict()
    assert extending["name"] == name and extending["description"] == description
    assert without_names(extending) == without_names(profile.load("dce5").as_dict())
    assert "extends" not in extending


def test_extending_file_overrides_key_by_key(tmp_path):
    child = write(tmp_path / "child.toml", 'extends = "dce5"\nname = "child"\n[pagination]\nfirst_page = 0\n')
    merged, base = profile.load(str(child)).as_dict(), profile.load("dce5").as_dict()
    assert merged["pagination"] == {**base["pagination"], "first_page": 0}
    assert merged["paths"] == base["paths"] and merged["name"] == "child"


def test_extends_path_is_relative_to_the_extending_file(tmp_path, monkeypatch):
    write(tmp_path / "shared" / "base.toml", 'extends = "dce5-aksk"\nname = "base"\n[keys]\nlimit = 5\n')
    child = write(tmp_path / "site" / "child.toml", 'extends = "../shared/base.toml"\nname = "child"\n')
    monkeypatch.chdir(tmp_path)  # from here "../shared/base.toml" names nothing: only child.toml's folder works
    loaded = profile.load(str(child))
    assert (loaded.name, loaded.keys.limit, loaded.flow) == ("child", 5, "aksk")


def test_extends_cycle_is_refused(tmp_path):
    write(tmp_path / "a.toml", 'extends = "b.toml"\nname = "a"\n')
    write(tmp_path / "b.toml", 'extends = "a.toml"\nname = "b"\n')
    with pytest.raises(profile.ProfileError, match="extends itself through a cycle"):
        profile.load(str(tmp_path / "a.toml"))


def test_extending_an_unknown_profile_is_refused(tmp_path):
    child = write(tmp_path / "child.toml", 'extends = "no-such-profile"\nname = "child"\n')
    with pytest.raises(profile.ProfileError, match="extends 'no-such-profile', which is neither"):
        profile.load(str(child))


def test_profile_set_applies_to_the_merged_profile(tmp_path):
    child = write(tmp_path / "child.toml", 'extends = "dce5-aksk"\nname = "child"\n[keys]\nlimit = 5\n')
    assert profile.load(str(child), ["keys.limit=3"]).keys.limit == 3


def test_merged_profile_is_validated(tmp_path):
    child = write(tmp_path / "child.toml", 'extends = "dce5"\nname = "child"\n[auth]\nunauthenticated_status = 200\n')
    with pytest.raises(profile.ProfileError, match="invalid"):
        profile.load(str(child))
