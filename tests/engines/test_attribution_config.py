"""``mappings/attribution.yaml`` loads, falls back to defaults, and names file, line
and key when it is wrong."""

from __future__ import annotations

import shutil
from fractions import Fraction
from pathlib import Path

import pytest

from connector.engine.attribution import Settings
from connector.errors import MappingError
from connector.mappings import bundled_dir, load_mappings


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "mappings"
    shutil.copytree(bundled_dir(), target)
    return target


def test_bundled_settings_compile_for_the_engine() -> None:
    m = load_mappings()
    a = m.attribution
    assert a.lookback_days == 365 and a.mode == "contact_role"
    assert a.active_models == ("first_touch", "last_touch", "linear", "u_shaped", "w_shaped",
                               "full_path", "time_decay")
    settings = Settings.from_mapping(a)
    assert settings.half_life_days == 7
    assert dict(settings.custom)["CL"] == Fraction(15)
    assert Settings.from_mapping(a, ["linear", "first_touch"]).models == (
        "first_touch", "linear")
    flags = {name: t.conversion for name, t in m.touches.touch_types.items()}
    assert a.conversion_types(flags) == {"form_fill", "content_download", "webinar_registered",
                                         "demo_request", "trial_start"}


def test_a_missing_file_means_the_defaults(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    (d / "attribution.yaml").unlink()
    assert load_mappings(d).attribution.models == load_mappings().attribution.models


@pytest.mark.parametrize(("replace", "by", "expected"), [
    pytest.param("custom_weights: {FT: 25, LC: 25, OC: 25, CL: 15, middle: 10}",
                 "custom_weights: {FT: 25, LC: 25, OC: 25, CL: 15, middle: 11}",
                 ["attribution.yaml:", "custom_weights", "must sum to 100, not 101"],
                 id="weights-not-summing-to-100"),
    pytest.param("models: [first_touch,", "models: [first_tuch,",
                 ["attribution.yaml:", "models.0"], id="unknown-model"),
    pytest.param("models: [first_touch,", "models: [linear, first_touch,",
                 ["models names ['linear'] more than once"], id="model-twice"),
    pytest.param("lookback_days: 365", "lookback_days: -1",
                 ["lookback_days", "greater than or equal to 0"], id="negative-lookback"),
    pytest.param("time_decay_half_life_days: 7", "time_decay_half_life_days: 0",
                 ["time_decay_half_life_days"], id="zero-half-life"),
    pytest.param("mode: contact_role", "mode: everyone", ["mode"], id="unknown-mode"),
    pytest.param("  enabled: false\n  model: w_shaped", "  enabled: true\n  model: custom",
                 ["campaign_influence.model 'custom' is not one of the active models"],
                 id="influence-model-not-active"),
    pytest.param("# conversion_touch_types:", "conversion_touch_types: [form_fill, fax]\n#",
                 ["conversion_touch_types names unknown touch types: ['fax']"],
                 id="unknown-conversion-type"),
])
def test_errors_name_file_line_and_key(tmp_path: Path, replace: str, by: str,
                                       expected: list[str]) -> None:
    d = _copy(tmp_path)
    path = d / "attribution.yaml"
    text = path.read_text()
    assert replace in text
    path.write_text(text.replace(replace, by))
    with pytest.raises(MappingError) as info:
        load_mappings(d)
    message = str(info.value)
    for part in expected:
        assert part in message


def test_the_error_line_points_at_the_key(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    path = d / "attribution.yaml"
    lines = path.read_text().splitlines()
    n = next(i for i, line in enumerate(lines) if line.startswith("lookback_days")) + 1
    path.write_text("\n".join(lines).replace("lookback_days: 365", "lookback_days: many"))
    with pytest.raises(MappingError) as info:
        load_mappings(d)
    assert f"attribution.yaml:{n}: lookback_days" in str(info.value)


def test_explicit_conversion_types_win_over_touches_yaml(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    path = d / "attribution.yaml"
    path.write_text(path.read_text().replace("# conversion_touch_types:",
                                             "conversion_touch_types: [demo_request]\n#"))
    m = load_mappings(d)
    assert m.attribution.conversion_types({"form_fill": True}) == {"demo_request"}
