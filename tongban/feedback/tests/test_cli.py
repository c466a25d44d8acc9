"""``tongban hotline train`` prints the cross-validated macro-F1 as its last line; ``hotline classify``."""

from __future__ import annotations

import json
import re

import pytest
import typer
from typer.testing import CliRunner

from tongban.feedback import cli, conf
from tongban.feedback.models import TrainingExample

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(tmp_path, monkeypatch) -> typer.Typer:
    monkeypatch.setattr(conf, "model_path", lambda: tmp_path / "model.joblib")
    root = typer.Typer()
    cli.register(root)

    @root.callback()
    def main() -> None:
        """(a group)"""

    return root


def test_train_prints_macro_f1_last_and_stores_the_model(app, tmp_path):
    TrainingExample.objects.create(text="楼下广场舞音响声音太大影响休息", type="complaint", department_code="yx-cg")
    result = CliRunner().invoke(app, ["hotline", "train", "--folds", "3"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("examples=1201 folds=3")  # the corpus and the operator's correction
    assert re.fullmatch(r"macro_f1=0\.\d\d|macro_f1=1\.00", lines[-1]), lines[-1]
    type_f1 = float(lines[1].split("=")[1])
    department_f1 = float(lines[2].split("=")[1])
    assert abs(float(lines[-1].split("=")[1]) - (type_f1 + department_f1) / 2) <= 0.01
    assert department_f1 > 0.8  # routing is learnt, not guessed (16 departments: chance is ~0.06)
    assert (tmp_path / "model.joblib").exists()


def test_classify(app, model, monkeypatch):
    monkeypatch.setattr(conf, "model_path", lambda: model)
    result = CliRunner().invoke(app, ["hotline", "classify", "身份证丢了怎么补办"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["department"] == "yx-ga" and answer["type"] == "consult"
    empty = CliRunner().invoke(app, ["hotline", "classify", " "])
    assert empty.exit_code == 1 and "feedback.invalid" in empty.output
