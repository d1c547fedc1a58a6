from pathlib import Path

import pytest
import yaml

from promgate.config import compose, load_params, out_of_sync_keys, sync
from promgate.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_committed_params_match_conf():
    # The committed params.yaml is what `dvc repro` runs: it must be conf/'s composition.
    assert out_of_sync_keys(ROOT) == []


def test_drift_is_detected_and_sync_repairs_it(tmp_path):
    (tmp_path / "conf").mkdir()
    for path in (ROOT / "conf").rglob("*.yaml"):
        target = tmp_path / "conf" / path.relative_to(ROOT / "conf")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text())
    sync(tmp_path)
    assert out_of_sync_keys(tmp_path) == []
    params = yaml.safe_load((tmp_path / "params.yaml").read_text())
    params["train"]["steps"] = 999
    params["extra"] = 1
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    assert out_of_sync_keys(tmp_path) == ["extra", "train.steps"]
    sync(tmp_path)
    assert out_of_sync_keys(tmp_path) == []


def test_profiles_change_sizes():
    smoke = yaml.safe_load(compose(ROOT / "conf", ["profile=smoke"]))
    full = yaml.safe_load(compose(ROOT / "conf", ["profile=full"]))
    default = yaml.safe_load(compose(ROOT / "conf"))
    assert smoke["data"]["n_per_benchmark"] < default["data"]["n_per_benchmark"]
    assert full["data"]["n_per_benchmark"] == -1 and full["data"]["n_generative"] == -1
    assert default["seeds"] == [42, 123, 456]
    assert default["policy"]["name"] == "miso_v1"


def test_sample_sizes_per_benchmark():
    params = load_params(ROOT / "params.yaml")
    assert params.n_for("arc_easy") == params.data.n_per_benchmark
    assert params.n_for("gsm8k") == params.data.n_generative
    overridden = params.model_copy(
        update={"data": params.data.model_copy(update={"n_overrides": {"gsm8k": 7}})}
    )
    assert overridden.n_for("gsm8k") == 7


def test_unknown_params_key_is_named(tmp_path):
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["train"]["stepz"] = 3
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    with pytest.raises(ConfigError, match=r"train\.stepz"):
        load_params(tmp_path / "params.yaml")
