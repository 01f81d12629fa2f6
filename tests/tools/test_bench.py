"""``alexnet.tools.bench``: the timer, the scale it picks for the machine, the table and its explanation."""

import pytest
import torch

from alexnet.cli.main import main
from alexnet.tools import bench as B

CPU = torch.device("cpu")


def test_a_cpu_gets_the_reduced_scale_unless_told_otherwise():
    s, note = B.settings(CPU)
    assert s == B.CPU_SETTINGS and "reduced scale" in note and "--full" in note
    s, _ = B.settings(CPU, full=True)
    assert s == B.PAPER_SETTINGS
    s, note = B.settings(CPU, batch_size=8, width=0.5)  # what was given is kept
    assert s["batch_size"] == 8 and s["width"] == 0.5 and note == "the scale asked for"
    s, _ = B.settings(CPU, batch_size=256, steps=2)  # a scale option: the rest is the paper's (RESULTS.md's rows)
    assert s["width"] == 1.0 and "image_size" not in s and s["steps"] == 2
    s, _ = B.settings(CPU, steps=3)  # steps alone do not change the scale
    assert s["width"] == 0.25 and s["steps"] == 3
    assert B.settings(torch.device("cuda"))[0] == B.PAPER_SETTINGS  # a GPU: the paper's scale


def test_the_table_states_the_ratio_to_the_fp32_loop():
    rows = [B.BenchResult("fp32", 100.0, 10.0, 1, 1, "cpu"), B.BenchResult("trainer", 250.0, 4.0, 1, 1, "cpu")]
    table = B.format_bench(rows)
    assert table.splitlines()[1].endswith("1.00x") and table.splitlines()[2].endswith("2.50x")
    assert "divided by the fp32 loop's" in B.RATIO_NOTE


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU's default scale")
def test_bench_with_no_options_on_a_cpu_runs_the_reduced_scale(monkeypatch, capsys):
    calls = {}

    def fake_bench(model, batch_size, steps, warmup, device, compile=False, progress=None, **options):
        calls.update(model=model, batch_size=batch_size, steps=steps, **options)
        return [B.BenchResult("fp32", 10.0, 6400.0, batch_size, steps, "cpu")]

    monkeypatch.setattr(B, "bench", fake_bench)
    monkeypatch.setattr(B, "bench_lrn", lambda *a, **k: {"seconds": {}})
    assert main(["bench"]) == 0
    assert calls == {
        "model": "paper",
        "batch_size": 64,
        "steps": 10,
        "width": 0.25,
        "image_size": 67,
        "num_classes": 1000,
    }
    out = capsys.readouterr().out
    assert "the reduced scale" in out and "speed-up = " in out


def test_the_data_pipeline_benchmark_runs(tmp_path):
    """benchmarks/data_pipeline.py (the README's) on a few JPEGs: both pipelines give the same number of batches."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "data_pipeline.py"
    spec = importlib.util.spec_from_file_location("data_pipeline", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    r = module.run(num_images=16, batch_size=8, workers=0, root=str(tmp_path), repeats=1)
    assert r["images"] == 16 and r["per_image_images_per_second"] > 0 and r["cached_images_per_second"] > 0
    assert "ratio:" in module.format_result(r)
