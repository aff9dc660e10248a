"""``alertdrill train``: a reproducible artifact of a model that is good on calm data and
breaks where the regimes say it should."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.train import regime_table, train, write_artifact
from service.model import FEATURES, load_model

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "config" / "model.json"
SHIPPED_TRAINED_AT = 1_767_225_600.0  # 2026-01-01T00:00:00Z, as README's train command says


# The tests of the trained artifact share it, on one xdist worker.
pytestmark = pytest.mark.xdist_group("trained_model")


@pytest.fixture(scope="module")
def trained() -> dict[str, object]:
    artifact, _ = train(seed=0, samples=100_000, regime="calm", trained_at=SHIPPED_TRAINED_AT)
    return artifact


def test_the_shipped_model_is_what_train_makes(trained: dict[str, object]) -> None:
    assert json.loads(SHIPPED.read_text()) == json.loads(json.dumps(trained))


def test_the_artifact_loads_with_its_reference(trained: dict[str, object], tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    write_artifact(trained, path)
    model = load_model(path)
    assert model.version == trained["version"]
    assert model.trained_at == SHIPPED_TRAINED_AT
    assert model.reference is not None and len(model.reference) == len(FEATURES)
    assert all(len(q) == 101 and list(q) == sorted(q) for q in model.reference)


def test_accurate_on_calm_data_and_broken_by_a_reversal(trained: dict[str, object]) -> None:
    training = trained["training"]
    assert isinstance(training, dict) and training["held_out_accuracy"] >= 0.80
    table = {(name, strength): q for name, strength, q in regime_table(trained, samples=20_000)}
    assert table[("calm", 1.0)].accuracy >= 0.80
    assert table[("calm", 1.0)].ece < 0.02
    assert table[("mean_reverting", 1.0)].accuracy < 0.60  # a regime change takes it below 60 %
    assert table[("volatile", 1.0)].ece > 0.05  # overconfident, still accurate
    assert table[("volatile", 1.0)].accuracy > 0.65
    low = next(q for (name, _), q in table.items() if name.startswith("low_confidence"))
    assert low.confidence < 0.70 and low.accuracy > 0.60
