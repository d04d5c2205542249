"""Loading NAB-layout folders and the `gke-heal evaluate nab` command end to end."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from anomaly_detection_model.detectors.catalogue import get
from anomaly_detection_model.nab.corpus import CorpusError, load_corpus, parse_timestamp
from gke_heal.cli import app


def write_corpus(root: Path, category: str = "realMadeUp") -> tuple[Path, Path]:
    """A two-file corpus in a category NAB does not have, with one spike per file."""
    data = root / "data" / category
    data.mkdir(parents=True)
    labels: dict[str, list[list[str]]] = {}
    for name, spike in (("a.csv", 300), ("b.csv", 350)):
        with (data / name).open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["timestamp", "value"])
            for i in range(400):
                value = 50.0 + (i % 7) + (200.0 if i == spike else 0.0)
                writer.writerow(
                    [
                        f"2015-01-{1 + i // 288:02d} {(i % 288) * 5 // 60:02d}:{(i * 5) % 60:02d}:00",
                        value,
                    ]
                )
        start, end = spike - 10, spike + 10

        def stamp(i: int) -> str:
            return (
                f"2015-01-{1 + i // 288:02d} {(i % 288) * 5 // 60:02d}:{(i * 5) % 60:02d}:00.000000"
            )

        labels[f"{category}/{name}"] = [[stamp(start), stamp(end)]]
    labels_path = root / "labels.json"
    labels_path.write_text(json.dumps(labels))
    return root / "data", labels_path


def test_timestamps_parse_in_every_nab_format() -> None:
    expected = parse_timestamp("2014-02-14 14:30:00")
    assert parse_timestamp("2014-02-14 14:30:00.000000") == expected
    assert parse_timestamp("2014-02-14T14:30:00Z") == expected
    with pytest.raises(ValueError, match="not a timestamp"):
        parse_timestamp("yesterday")


def test_windows_map_to_rows_by_time(tmp_path: Path) -> None:
    data, labels = write_corpus(tmp_path)
    files = load_corpus(data, labels)
    assert [f.key for f in files] == ["realMadeUp/a.csv", "realMadeUp/b.csv"]
    assert files[0].windows == [(290, 310)]
    assert files[1].windows == [(340, 360)]
    assert len(files[0]) == 400


def test_a_file_without_labels_is_an_error_naming_it(tmp_path: Path) -> None:
    data, labels = write_corpus(tmp_path)
    labels.write_text(json.dumps({"realMadeUp/a.csv": []}))
    with pytest.raises(CorpusError, match=r"realMadeUp/b\.csv"):
        load_corpus(data, labels)


def test_a_bad_value_is_an_error_naming_the_line(tmp_path: Path) -> None:
    data, labels = write_corpus(tmp_path)
    path = data / "realMadeUp" / "a.csv"
    path.write_text(path.read_text().replace(",50.0\n", ",fifty\n", 1))
    with pytest.raises(CorpusError, match=r"a.csv:2: field 'value'"):
        load_corpus(data, labels)


def test_evaluate_nab_scores_a_new_category_and_writes_nab_results(tmp_path: Path) -> None:
    data, labels = write_corpus(tmp_path)
    out = tmp_path / "report.json"
    scores_dir = tmp_path / "results"
    result = CliRunner().invoke(
        app,
        [
            "evaluate",
            "nab",
            "--data",
            str(data),
            "--labels",
            str(labels),
            "--detector",
            "windowed_gaussian",
            "--json",
            str(out),
            "--scores-dir",
            str(scores_dir),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert set(report["optimised"]) == {"standard", "reward_low_FP_rate", "reward_low_FN_rate"}
    standard = report["optimised"]["standard"]
    assert "realMadeUp" in standard["categories"]
    # Two isolated spikes of 200 above a 50..56 saw-tooth: both windows are caught.
    assert standard["total"]["tp"] == 2
    assert standard["total"]["score"] > 50
    written = sorted(scores_dir.glob("realMadeUp/*.csv"))
    assert [p.name for p in written] == ["windowed_gaussian_a.csv", "windowed_gaussian_b.csv"]
    with written[0].open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["timestamp", "value", "anomaly_score"]
    assert len(rows) == 400
    assert all(0.0 <= float(r["anomaly_score"]) <= 1.0 for r in rows)


def test_evaluate_nab_names_an_unknown_detector(tmp_path: Path) -> None:
    data, labels = write_corpus(tmp_path)
    result = CliRunner().invoke(
        app, ["evaluate", "nab", "--data", str(data), "--labels", str(labels), "--detector", "nope"]
    )
    assert result.exit_code != 0
    assert "--detector" in result.output and "windowed_gaussian" in result.output


def test_evaluate_nab_reports_a_missing_labels_file(tmp_path: Path) -> None:
    data, _ = write_corpus(tmp_path)
    result = CliRunner().invoke(
        app, ["evaluate", "nab", "--data", str(data), "--labels", str(tmp_path / "none.json")]
    )
    assert result.exit_code == 2
    assert "labels file not found" in result.output


def test_written_results_rescore_to_the_same_numbers(tmp_path: Path) -> None:
    from anomaly_detection_model.detectors.univariate import RecordDetector
    from anomaly_detection_model.nab.evaluation import run_detector, score_corpus
    from anomaly_detection_model.nab.results import write_results
    from anomaly_detection_model.nab.scoring import NAB_PROFILES

    data, labels = write_corpus(tmp_path)
    files = load_corpus(data, labels)
    scores = run_detector(files, RecordDetector)
    write_results(tmp_path / "out", "univariate", files, scores)
    reread = {}
    for nab_file in files:
        with (
            tmp_path / "out" / nab_file.category / f"univariate_{nab_file.name}"
        ).open() as handle:
            reread[nab_file.key] = np.array(
                [float(r["anomaly_score"]) for r in csv.DictReader(handle)]
            )
    first = score_corpus("u", files, scores, NAB_PROFILES, 0.5).as_dict()
    again = score_corpus("u", files, reread, NAB_PROFILES, 0.5).as_dict()
    assert first == again
    assert first["optimised"]["standard"]["total"]["tp"] == 2


def test_the_runner_gives_a_detector_that_reads_them_the_row_times(tmp_path: Path) -> None:
    from anomaly_detection_model.detectors.univariate import RecordDetector
    from anomaly_detection_model.nab.evaluation import run_detector

    rng = np.random.default_rng(2)
    start = datetime(2024, 1, 1)
    steps = [timedelta(minutes=5 * (i + (i >= 1500))) for i in range(2000)]
    rows = [((start + s).strftime("%Y-%m-%d %H:%M:%S"), 10 + rng.normal()) for s in steps]
    folder = tmp_path / "data" / "gaps"
    folder.mkdir(parents=True)
    (folder / "late.csv").write_text("timestamp,value\n" + "".join(f"{t},{v}\n" for t, v in rows))
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"gaps/late.csv": []}))
    files = load_corpus(tmp_path / "data", labels)
    assert files[0].seconds()[1500] - files[0].seconds()[1499] == 600.0
    threshold = get("univariate").threshold
    scores = run_detector(files, RecordDetector)["gaps/late.csv"]
    assert scores[1500] >= threshold
    assert RecordDetector().score(files[0].values)[1500] < threshold
