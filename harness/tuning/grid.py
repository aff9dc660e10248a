"""The tuning file: which alerts to vary, the values to try, and what the recommendation must meet.

    rules: ../config/prometheus-alerts.yml   # relative to this file
    grace: 10m                              # a firing this long after an incident still belongs to it
    constraints: {min_recall: 0.95, max_false_per_day: 0.15}
    alerts:
      HighErrorRate:
        threshold: [0.005, 0.01, 0.02]
        for: [0s, 1m, 2m]
        windows: {1m: [30s, 1m, 2m]}         # the alert's own range selectors
      ErrorBudgetPage:
        expressions:                         # whole expressions to try, templated with ${name}
          - name: burn ${burn}x over ${window}
            expr: job:errors:ratio_rate${window} > ${burn} * 0.001
            params: {window: [1h, 6h], burn: [6, 14.4]}
            for: 2m                          # optional: else the `for` values, else the rule's

Errors name the file, the line and the field, as a scenario's do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from harness.engine import compose, line_of, parse_duration, read_mapping, read_text
from harness.errors import ConfigurationError
from harness.tuning.truth import DEFAULT_GRACE
from harness.tuning.variants import AlertGrid, ExpressionGrid

Seconds = Annotated[float, BeforeValidator(parse_duration), Field(ge=0)]
Range = Annotated[str, Field(pattern=r"^\d+(ms|[smhdwy])$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Expression(_Strict):
    """A whole expression to try for an alert, instead of varying the rule's own: ``${name}``
    placeholders take every combination of ``params`` (any other ``$`` is PromQL's, left alone)."""

    name: str = Field(min_length=1, max_length=120)
    expr: str = Field(min_length=1)
    params: dict[str, tuple[str | int | float, ...]] = {}
    for_: Seconds | None = Field(default=None, alias="for")


class AlertValues(_Strict):
    threshold: tuple[float, ...] = ()
    for_: tuple[Seconds, ...] = Field(default=(), alias="for")
    windows: dict[Range, tuple[Range, ...]] = {}
    expressions: tuple[Expression, ...] = ()

    def grid(self) -> AlertGrid:
        return AlertGrid(
            self.threshold,
            self.for_,
            tuple((k, v) for k, v in self.windows.items()),
            tuple(
                ExpressionGrid(e.name, e.expr, tuple((k, tuple(map(str, v))) for k, v in e.params.items()), e.for_)
                for e in self.expressions
            ),
        )


class Constraints(_Strict):
    """What the recommended variant must meet; among those, the fewest false alerts, then the
    fastest median detection."""

    min_recall: float = Field(default=0.95, ge=0, le=1)
    max_false_per_day: float = Field(default=1 / 7, ge=0, description="One false alert a week by default.")


class TuningFile(_Strict):
    rules: tuple[str, ...] | str = "../config/prometheus-alerts.yml"
    grace: Seconds = DEFAULT_GRACE
    constraints: Constraints = Constraints()
    alerts: dict[str, AlertValues] = Field(min_length=1)

    def rule_paths(self, base: Path) -> list[Path]:
        names = (self.rules,) if isinstance(self.rules, str) else self.rules
        return [(base / n).resolve() for n in names]


def load_tuning_file(path: Path) -> TuningFile:
    data = read_mapping(path, "tuning file", ConfigurationError, limit=1_000_000)
    try:
        return TuningFile.model_validate(data)
    except ValidationError as exc:
        root = compose(read_text(path, "tuning file", ConfigurationError, limit=1_000_000))
        lines = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            line = line_of(root, loc)
            field = ".".join(str(s) for s in loc) or "(top level)"
            message = (
                "unknown field (check its spelling and indentation)" if err["type"] == "extra_forbidden" else err["msg"]
            )
            lines.append(f"{path}{f':{line}' if line else ''}: field {field}: {message}")
        raise ConfigurationError("\n".join(lines)) from exc
