"""The model artifact: training time and reference distribution, validated on load, and the
model metrics that follow a reload."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from service.model import FEATURES, LogisticModel, ModelFileError, load_model
from tests.service import artifacts
from tests.service.helpers import Services, at, scrape, value

ADMIN = {"Authorization": "Bearer t"}


def test_an_artifact_with_training_time_and_reference_loads(tmp_path: Path) -> None:
    model = load_model(artifacts.write(tmp_path / "m.json", artifacts.artifact()))
    assert model.version == "factor-logit-20260101-test0001"
    assert model.trained_at == artifacts.TRAINED_AT
    assert model.coefficients == tuple(1.0 if f in ("order_book_imbalance", "volatility") else 0.0 for f in FEATURES)
    assert model.reference is not None and [len(q) for q in model.reference] == [101] * len(FEATURES)
    assert model.reference[FEATURES.index("volatility")][0] == artifacts.VOLATILITY_MEDIAN - 5.0
    assert model.imputation("volatility") == pytest.approx(artifacts.VOLATILITY_MEDIAN)
    assert model.imputation("spread") == pytest.approx(0.0)


def test_the_old_minimal_artifact_still_loads(tmp_path: Path) -> None:
    doc = {"version": "v1", "intercept": 0.2, "coefficients": dict.fromkeys(FEATURES, 0.5)}
    model = load_model(artifacts.write(tmp_path / "m.json", doc))
    assert (model.version, model.intercept, model.trained_at, model.reference) == ("v1", 0.2, None, None)
    assert model.imputation("spread") == 0.0


def with_spread_reference(quantiles: Any) -> dict[str, Any]:
    doc = artifacts.artifact()
    doc["reference"]["spread"] = quantiles
    return doc


def without_spread_reference() -> dict[str, Any]:
    doc = artifacts.artifact()
    del doc["reference"]["spread"]
    return doc


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (with_spread_reference(artifacts.normal_quantiles()[::-1]), r"reference\.spread must be in ascending order"),
        (with_spread_reference([0.0, 1.0, 2.0]), r"reference\.spread must be a list of 101 quantiles, got 3 values"),
        (with_spread_reference(None), r"reference\.spread must be a list of 101 quantiles"),
        (without_spread_reference(), r"reference\.spread must be a list of 101 quantiles"),
        (with_spread_reference(["0"] * 101), r"reference\.spread must hold finite numbers only"),
        (with_spread_reference([False] * 101), r"reference\.spread must hold finite numbers only"),
        (with_spread_reference([float("nan")] * 101), r"reference\.spread must hold finite numbers only"),
        (artifacts.artifact(reference=[[0.0] * 101] * 8), r"field reference must map each feature"),
        (artifacts.artifact(trained_at="yesterday"), r"field trained_at must be Unix seconds"),
        (artifacts.artifact(trained_at=float("inf")), r"field trained_at must be Unix seconds"),
        (artifacts.artifact(format=2), r"field format is 2; this service reads format 1"),
    ],
    ids=["descending", "short", "null", "absent", "strings", "bools", "nan", "list", "bad-time", "inf-time", "format"],
)
def test_a_malformed_artifact_is_refused_naming_the_file_field_and_feature(
    doc: dict[str, Any], message: str, tmp_path: Path
) -> None:
    path = tmp_path / "model.json"
    path.write_text(json.dumps(doc))  # NaN and Infinity as JSON's Python dialect writes them
    with pytest.raises(ModelFileError, match=message) as error:
        load_model(path)
    assert str(error.value).startswith(f"{path}: ")


def test_a_model_built_in_code_checks_its_reference_too() -> None:
    with pytest.raises(ValueError, match="101 quantiles"):
        LogisticModel("v", (0.0,) * len(FEATURES), reference=((0.0,) * 101,))


def test_model_metrics_follow_a_reload(services: Services, tmp_path: Path) -> None:
    path = artifacts.write(tmp_path / "served.json", artifacts.artifact(version="v1"))
    c = services(model_path=str(path), admin_token="t")
    m = scrape(c, 0)
    assert value(m, "prediction_api_model_info", version="v1") == 1
    assert value(m, "prediction_api_model_trained_timestamp_seconds") == artifacts.TRAINED_AT

    artifacts.write(path, artifacts.artifact(version="v2", trained_at=artifacts.TRAINED_AT + 86_400))
    assert c.post("/admin/model/reload", headers=at(1) | ADMIN).json() == {"model_version": "v2"}
    m = scrape(c, 1)
    assert value(m, "prediction_api_model_info", version="v1") == 0
    assert value(m, "prediction_api_model_info", version="v2") == 1
    assert value(m, "prediction_api_model_trained_timestamp_seconds") == artifacts.TRAINED_AT + 86_400

    artifacts.write(path, with_spread_reference([0.0, 1.0]))
    bad = c.post("/admin/model/reload", headers=at(2) | ADMIN)
    assert bad.status_code == 422 and "reference.spread" in bad.text
    assert value(scrape(c, 2), "prediction_api_model_info", version="v2") == 1  # still served

    artifacts.write(path, {"version": "v3", "coefficients": dict.fromkeys(FEATURES, 0.0)})  # no training time
    assert c.post("/admin/model/reload", headers=at(3) | ADMIN).status_code == 200
    m = scrape(c, 3)
    assert value(m, "prediction_api_model_info", version="v3") == 1
    assert value(m, "prediction_api_model_info", version="v2") == 0
    assert value(m, "prediction_api_model_trained_timestamp_seconds") is None  # unknown, not 1970


def test_no_training_time_is_exported_for_the_built_in_model(services: Services) -> None:
    m = scrape(services(model_path=None), 0)
    assert value(m, "prediction_api_model_info", version="logit-0.1.0") == 1
    assert not any(name == "prediction_api_model_trained_timestamp_seconds" for name, _ in m)
