"""Ensembles: packs train each member as it would train alone; bootstrap and sweep runs
write, resume and fail the way the README says; bad input gets one line."""

import csv
import json
import os
import signal
import sys

import numpy as np
import pytest
import torch
from cli_helpers import run

import lilyvae
import lilyvae.runs.ensemble.backends as backends
from lilyvae.data.tables import training_data_from_frame
from lilyvae.errors import LilyVAEError
from lilyvae.runs.ensemble import (
    MAX_PACK,
    Member,
    bootstrap,
    interval,
    member_seeds,
    parse_grid,
    plan_pack_tasks,
    resample_rows,
    sweep,
)
from lilyvae.synthetic.generator import generate_table
from lilyvae.training.config import make_config
from lilyvae.training.pack_run import MemberSpec
from lilyvae.training.trainer import scale_for_training, train, train_members


@pytest.fixture(scope="module")
def tiny():
    """1,000 rows: with batch 37 the last batch of an epoch has a single row."""
    return training_data_from_frame(generate_table(rows=1000, seed=3), source="tiny")


def read_csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def state_equal(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# --- seeds, resamples, intervals, the grid -----------------------------------------------------


def test_seeds_and_resamples_come_from_the_base_seed(data):
    seeds = member_seeds(42, 5)
    assert seeds == member_seeds(42, 5) and len(set(seeds)) == 5
    assert member_seeds(42, 8)[:5] == seeds  # growing N keeps the first members
    assert member_seeds(43, 5) != seeds

    n = data.n_rows
    rows = resample_rows(n, data.boreholes, "rows", seeds[0])
    assert len(rows) == n and rows.min() >= 0 and rows.max() < n
    assert len(np.unique(rows)) < n  # drawn with replacement
    assert np.array_equal(rows, resample_rows(n, data.boreholes, "rows", seeds[0]))
    assert resample_rows(n, data.boreholes, "seed-only", seeds[0]) is None

    picked = resample_rows(n, data.boreholes, "boreholes", seeds[1])
    assert len(picked) == n
    # Whole boreholes, appended in the order drawn: every borehole's rows come in runs
    # as long as the borehole (only the last one drawn may be cut short).
    ids = data.boreholes[picked]
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    lengths = np.diff(np.r_[starts, len(ids)])
    sizes = {b: int((data.boreholes == b).sum()) for b in np.unique(ids)}
    full = [
        length % sizes[ids[s]] == 0 for s, length in zip(starts[:-1], lengths[:-1], strict=True)
    ]
    assert all(full)
    assert len(np.unique(ids)) < len(np.unique(data.boreholes))  # with replacement


def test_intervals():
    values = list(range(1, 101))
    p = interval(values, "percentile")
    assert p["mean"] == pytest.approx(50.5)
    assert p["low"] == pytest.approx(np.percentile(values, 2.5))
    assert p["high"] == pytest.approx(np.percentile(values, 97.5))
    t = interval([1.0, 2.0, 3.0], "t")
    assert t["mean"] == 2.0 and t["sd"] == pytest.approx(1.0)
    assert t["high"] - 2.0 == pytest.approx(4.302653 / 3**0.5, rel=1e-5)  # t(0.975, 2 df)
    assert interval([None, float("nan"), 1.0])["n"] == 1


def test_grid_parsing():
    grid = parse_grid(["beta=0.1,0.5,1", "mask-ratio=0.2", "hidden-dims=64/32,16/8", "epochs=2"])
    assert grid == {
        "beta": [0.1, 0.5, 1.0],
        "mask_ratio": [0.2],
        "hidden_dims": [(64, 32), (16, 8)],
        "epochs": [2],
    }
    for bad, says in (
        (["gamma=1"], "unknown hyper-parameter 'gamma'"),
        (["beta=abc"], "'abc' is not a number"),
        (["epochs=1.5"], "'1.5' is not an integer"),
        (["seed=1,2"], "use --seeds"),
        (["beta"], "NAME=VALUE1"),
        (["beta=1", "beta=2"], "given twice"),
    ):
        with pytest.raises(LilyVAEError, match=says):
            parse_grid(bad)


def test_packs_hold_one_configuration_spread_over_the_workers():
    """The one planner of packs: a pack never mixes configurations, keeps the members'
    order, and by default spreads the members over the workers, at most MAX_PACK each."""
    configs = [make_config("unsupervised", "standard", beta=b) for b in (0.5, 1.0)]
    members = [
        Member(f"c{c}-s{j}", 5 * c + j, 100 + j, config, "seed-only", cell=c)
        for c, config in enumerate(configs)
        for j in range(5)
    ]

    def sizes(tasks):
        return [len(t.keys) for t in tasks]

    tasks = plan_pack_tasks(members, 2, None, lambda m: np.arange(m.index), None)
    assert sizes(tasks) == [5, 5] and [t.pack_id for t in tasks] == [0, 1]
    assert [t.config.recipe.beta for t in tasks] == [0.5, 1.0]
    assert tasks[1].keys == [f"c1-s{j}" for j in range(5)]
    assert tasks[1].seeds == [100, 101, 102, 103, 104]
    assert [len(r) for r in tasks[1].rows] == [5, 6, 7, 8, 9]  # each member's own rows
    assert sizes(plan_pack_tasks(members, 2, 2, lambda m: None, None)) == [2, 2, 1, 2, 2, 1]
    many = [Member(str(i), i, i, configs[0], "seed-only") for i in range(40)]
    assert sizes(plan_pack_tasks(many, 1, None, lambda m: None, None)) == [MAX_PACK] * 2 + [8]


# --- a member in a pack is the member alone -----------------------------------------------------


@pytest.mark.parametrize(
    "model,recipe", [("unsupervised", "standard"), ("semisupervised", "hybrid")]
)
def test_pack_member_is_the_member_alone(data, model, recipe):
    """Each member of a pack of 4 ends within 1% of the same member trained alone in the
    plain layout (PyTorch's own kernels), and has the very bytes of `lilyvae.train`."""
    config = make_config(model, recipe, epochs=3, batch_size=128)
    seeds = member_seeds(7, 4)
    _scaler, X, labels = scale_for_training(data)
    n_classes = len(data.class_names)
    rows = [resample_rows(data.n_rows, None, "rows", s) for s in seeds]
    pack = train_members(
        X,
        labels,
        [MemberSpec(s, r) for s, r in zip(seeds, rows, strict=True)],
        config,
        n_classes,
    )
    for member, seed, r in zip(pack, seeds, rows, strict=True):
        # alone, with PyTorch's operations for the batch norms (what a GPU runs)
        (alone,) = train_members(X, labels, [MemberSpec(seed, r)], config, n_classes, fused=False)
        assert member.error is None and alone.error is None
        assert member.history["loss"][-1] == pytest.approx(alone.history["loss"][-1], rel=0.01)
    # and a seed-only member of a pack against `lilyvae.train` itself: on the CPU both
    # run the same engine, so the member is the model `lilyvae train` would save
    pack = train_members(X, labels, [MemberSpec(s) for s in seeds[:3]], config, n_classes)
    single = train(data, dataclass_replace(config, seed=seeds[1]))
    assert state_equal(pack[1].model.state_dict(), single.module.state_dict())
    assert pack[1].history["loss"] == single.history["loss"]


def dataclass_replace(config, **changes):
    import dataclasses

    return dataclasses.replace(config, **changes)


TINY_ARCH = {"hidden_dims": (12, 5), "latent_dim": 3}


@pytest.mark.parametrize(
    "model,recipe,options",
    [
        ("unsupervised", "standard", {"batch_size": 37}),
        ("semisupervised", "hybrid", {"batch_size": 37}),
        ("unsupervised", "hybrid", {"batch_size": 37} | TINY_ARCH),
        ("semisupervised", "hybrid", {"batch_size": 37} | TINY_ARCH),
    ],
)
def test_member_bytes_do_not_depend_on_its_pack(tiny, model, recipe, options):
    """Same bytes in a pack of 5, of 2, alone, first or last, with a one-row last batch
    (the cases where kernels' vector tails would differ).

    With tiny layers (5 and 3 units) the bytes are not the same on every machine: for
    such small products the BLAS library (MKL, on an AMD Zen 5 core) picks its kernel
    by the number of matrices in the batch. There the members agree to float32
    rounding."""
    assert tiny.n_rows % 37 == 1
    config = make_config(model, recipe, epochs=2, **options)
    _scaler, X, labels = scale_for_training(tiny)
    seeds = member_seeds(11, 5)
    rows = [resample_rows(tiny.n_rows, None, "rows", s) for s in seeds]

    def states(which):
        specs = [MemberSpec(seeds[i], rows[i]) for i in which]
        res = train_members(X, labels, specs, config, len(tiny.class_names))
        return {i: r.model.state_dict() for i, r in zip(which, res, strict=True)}

    exact = "latent_dim" not in options  # the default architecture
    everyone = states(range(5))
    for which in ([4], [0], [3, 1], [4, 0, 2]):
        for i, state in states(which).items():
            if exact:
                assert state_equal(state, everyone[i]), (which, i)
            for name, value in state.items():
                torch.testing.assert_close(value, everyone[i][name], rtol=1e-4, atol=1e-6)


# --- bootstrap runs -----------------------------------------------------------------------------


def test_bootstrap_writes_members_summary_and_cards(tmp_path, small_csv, capsys):
    out = tmp_path / "boot"
    args = ["bootstrap", "--model", "semisupervised", "--recipe", "hybrid", "--n", "3"]
    args += ["--data", small_csv, "--output-dir", out, "--epochs", "2", "--batch-size", "128"]
    args += ["--holdout-boreholes", "0.2", "--eval-rows", "1500", "--workers", "1", "--quiet"]
    code, stdout, err = run(args, capsys)
    assert code == 0, err
    assert "3 of 3 members ok" in stdout and "svm_accuracy" in stdout

    rows = read_csv(out / "members.csv")
    assert [r["member"] for r in rows] == ["m0000", "m0001", "m0002"]
    assert all(r["status"] == "ok" and r["resample"] == "rows" for r in rows)
    assert [int(r["seed"]) for r in rows] == member_seeds(42, 3)
    for column in ("final_loss", "final_class", "svm_accuracy", "gmm_ari", "r2_mean"):
        assert all(np.isfinite(float(r[column])) for r in rows), column

    summary = json.loads((out / "summary.json").read_text())
    assert summary["ok"] == 3 and summary["interval"]["method"] == "percentile"
    loss = summary["metrics"]["final_loss"]
    values = [float(r["final_loss"]) for r in rows]
    assert loss["mean"] == pytest.approx(np.mean(values)) and loss["n"] == 3
    assert loss["low"] <= loss["mean"] <= loss["high"]
    assert "svm_accuracy" in summary["metrics"] and "baseline" in summary
    _check_group_comparison(rows, summary, stdout)

    for r in rows:
        model = lilyvae.load_model(out / "members" / f"{r['member']}.pt")
        info = model.card.extra["ensemble"]
        assert info["member"] == r["member"] and info["seed"] == int(r["seed"])
        assert model.card.seed == int(r["seed"]) and model.card.training["seed"] == info["seed"]
        assert model.card.held_out_boreholes  # scored on unseen boreholes
        assert info["metrics"]["svm_accuracy"] == pytest.approx(float(r["svm_accuracy"]))
        assert model.embed(np.ones((2, 6))).shape == (2, 10)
        assert len(model.history["loss"]) == 2


def _check_group_comparison(rows, summary, stdout):
    """Each member's group comparison in members.csv, and over the members in the
    summary: mean and interval per method x representation, and the paired verdict."""
    pytest.importorskip("xgboost")
    columns = [
        f"groups_{rep}_{method}_balanced_accuracy"
        for rep in ("features", "embedding", "both")
        for method in ("linear", "boosted")
    ]
    for column in columns:
        values = [float(r[column]) for r in rows]
        assert all(0 <= v <= 1 for v in values), column
        entry = summary["metrics"][column]
        # Up to rounding: the mean of three equal values need not be that value exactly.
        tolerance = 1e-12
        assert entry["n"] == 3
        assert entry["low"] - tolerance <= entry["mean"] <= entry["high"] + tolerance
        if "_features_" in column:  # the same held-out rows for every member
            assert len(set(values)) == 1, column
    section = summary["group_comparison"]
    base = section["strongest_baseline"].split("/")[1]
    base_col = f"groups_features_{base}_balanced_accuracy"
    assert float(rows[0][base_col]) == max(
        float(rows[0][f"groups_features_{m}_balanced_accuracy"]) for m in ("linear", "boosted")
    )
    for rep, label in (("embedding", "embedding"), ("both", "embedding+features")):
        d = section["differences"][rep]
        method = d["method"].split("/")[1]
        paired = [
            float(r[f"groups_{rep}_{method}_balanced_accuracy"]) - float(r[base_col]) for r in rows
        ]
        assert d["method"] == f"{label}/{method}" and d["members"] == 3
        assert d["difference"] == pytest.approx(np.mean(paired))
        assert d["low"] == pytest.approx(np.percentile(paired, 2.5))
        assert d["verdict"] in ("beats", "is beaten by", "no verdict")
    assert f"groups: {section['verdict']}" in stdout
    assert section["verdict"].startswith(f"strongest baseline features/{base}; embedding/")


REAL_RUN_PACK = backends.run_pack


def _count_packs(monkeypatch):
    trained = []
    real = REAL_RUN_PACK

    def counting(X, labels, task, progress=None):
        trained.extend(task.keys)
        return real(X, labels, task, progress)

    monkeypatch.setattr(backends, "run_pack", counting)
    return trained


def test_resume_skips_finished_members_and_retries_failed_ones(tmp_path, data, monkeypatch):
    out = tmp_path / "run"
    config = make_config("unsupervised", "standard", epochs=2, batch_size=256)
    real = backends.run_pack

    def broken(X, labels, task, progress=None):
        if "m0002" in task.keys:
            raise RuntimeError("simulated failure")
        return real(X, labels, task, progress)

    monkeypatch.setattr(backends, "run_pack", broken)
    first = bootstrap(data, config, n=4, output_dir=out, workers=1, pack_size=2, evaluation=None)
    assert first.failed == 2 and first.trained == 2  # the pack of m0002 and m0003 failed
    rows = {r["member"]: r for r in read_csv(out / "members.csv")}
    assert rows["m0002"]["status"] == "failed"
    assert "RuntimeError: simulated failure" in rows["m0002"]["error"]
    assert rows["m0000"]["status"] == "ok"
    assert json.loads((out / "failures.json").read_text())["members"].keys() == {"m0002", "m0003"}
    done = {k: (out / "members" / f"{k}.pt").stat().st_mtime_ns for k in ("m0000", "m0001")}

    trained = _count_packs(monkeypatch)  # the real trainer again, counting
    second = bootstrap(data, config, n=4, output_dir=out, workers=1, pack_size=2, evaluation=None)
    assert sorted(trained) == ["m0002", "m0003"]  # only the failed members trained
    assert second.trained == 2 and second.skipped == 2 and second.failed == 0
    assert all(r["status"] == "ok" for r in read_csv(out / "members.csv"))
    assert not (out / "failures.json").exists()
    for key, mtime in done.items():
        assert (out / "members" / f"{key}.pt").stat().st_mtime_ns == mtime

    trained.clear()
    third = bootstrap(data, config, n=4, output_dir=out, workers=1, evaluation=None)
    assert trained == [] and third.skipped == 4  # nothing left to do

    # A finished member whose checkpoint was replaced is not trusted: trained again.
    (out / "members" / "m0001.pt").write_bytes(b"not this run's")
    bootstrap(data, config, n=4, output_dir=out, workers=1, evaluation=None)
    assert trained == ["m0001"]


def test_killed_worker_fails_its_pack_only(tmp_path, data, monkeypatch):
    out = tmp_path / "run"
    config = make_config("unsupervised", "standard", epochs=1)
    real = backends.run_pack
    victim = member_seeds(42, 4)[1]

    def maybe_die(X, labels, task, progress=None):
        if victim in task.seeds:  # runs in the forked worker process
            os.kill(os.getpid(), signal.SIGKILL)
        return real(X, labels, task, progress)

    monkeypatch.setattr(backends, "run_pack", maybe_die)
    result = bootstrap(data, config, n=4, output_dir=out, workers=2, pack_size=1, evaluation=None)
    rows = {r["member"]: r for r in read_csv(out / "members.csv")}
    assert rows["m0001"]["status"] == "failed"
    assert rows["m0001"]["error"] == "worker process killed by SIGKILL"
    assert [rows[k]["status"] for k in ("m0000", "m0002", "m0003")] == ["ok"] * 3
    assert result.failed == 1

    monkeypatch.setattr(backends, "run_pack", real)
    again = bootstrap(data, config, n=4, output_dir=out, workers=2, pack_size=1, evaluation=None)
    assert again.trained == 1 and again.failed == 0


def test_workers_and_packs_give_the_same_bytes(tmp_path, data):
    config = make_config("semisupervised", "standard", epochs=2, batch_size=200)
    a = bootstrap(data, config, n=3, output_dir=tmp_path / "a", workers=1, evaluation=None)
    bootstrap(data, config, n=3, output_dir=tmp_path / "b", workers=2, pack_size=2, evaluation=None)
    for row in a.members:
        name = f"{row['member']}.pt"
        assert (tmp_path / "a" / "members" / name).read_bytes() == (
            tmp_path / "b" / "members" / name
        ).read_bytes()
    assert (tmp_path / "a" / "members.csv").read_text() == (
        tmp_path / "b" / "members.csv"
    ).read_text()


def test_a_different_run_is_refused_unless_resumed(tmp_path, data, small_csv, capsys):
    out = tmp_path / "run"
    config = make_config("unsupervised", "standard", epochs=1)
    bootstrap(data, config, n=2, output_dir=out, workers=1, evaluation=None)
    other = make_config("unsupervised", "standard", epochs=2)
    with pytest.raises(LilyVAEError, match=r"holds a different bootstrap run \(config.epochs"):
        bootstrap(data, other, n=2, output_dir=out, workers=1, evaluation=None)
    # --resume continues the stored run (its settings), here growing it to 3 members
    grown = bootstrap(data, other, n=3, output_dir=out, workers=1, evaluation=None, resume=True)
    assert grown.settings_from_directory and grown.trained == 1 and grown.skipped == 2
    card = lilyvae.load_model(out / "members" / "m0002.pt").card
    assert card.training["epochs"] == 1
    with pytest.raises(LilyVAEError, match="holds no run"):
        bootstrap(data, config, n=2, output_dir=tmp_path / "new", resume=True)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "x.txt").write_text("x")
    with pytest.raises(LilyVAEError, match="not empty and not a lilyvae bootstrap run"):
        bootstrap(data, config, n=2, output_dir=tmp_path / "junk")


def test_an_unreadable_manifest_is_one_line(tmp_path, data):
    out = tmp_path / "run"
    out.mkdir()
    (out / "run.json").write_text("{not json")
    config = make_config("unsupervised", "standard", epochs=1)
    with pytest.raises(LilyVAEError, match=r"run\.json: not a readable ensemble run manifest"):
        bootstrap(data, config, n=1, output_dir=out, workers=1, evaluation=None)
    (out / "run.json").write_text('{"format": "something else"}')
    with pytest.raises(LilyVAEError, match=r"run\.json: not a lilyvae ensemble run manifest"):
        bootstrap(data, config, n=1, output_dir=out, workers=1, evaluation=None)
    assert sorted(p.name for p in out.iterdir()) == ["run.json"]  # nothing else written


# --- sweeps ---------------------------------------------------------------------------------------


def test_sweep_records_a_diverging_cell_and_finishes_the_rest(tmp_path, small_csv, capsys):
    out = tmp_path / "sweep"
    args = ["sweep", "--model", "unsupervised", "--grid", "lr=1e-3,100", "beta=0.5,1"]
    args += ["--seeds", "3", "--data", small_csv, "--output-dir", out, "--epochs", "2"]
    args += ["--workers", "1", "--quiet"]
    code, stdout, err = run(args, capsys)
    assert code == 0, err
    assert "6 of 12 members ok, 6 failed" in stdout
    members = read_csv(out / "members.csv")
    assert len(members) == 12
    for r in members:
        if float(r["lr"]) == 100:
            assert r["status"] == "failed" and r["error"].startswith("diverged: non-finite loss")
        else:
            assert r["status"] == "ok" and np.isfinite(float(r["final_loss"]))
    # seed j is the same in every cell (paired comparisons)
    assert len({r["seed"] for r in members}) == 3
    results = read_csv(out / "results.csv")
    assert [(float(r["lr"]), float(r["beta"])) for r in results] == [
        (0.001, 0.5),
        (0.001, 1.0),
        (100.0, 0.5),
        (100.0, 1.0),
    ]
    ok = results[0]
    assert (
        float(ok["final_loss_low"]) <= float(ok["final_loss_mean"]) <= float(ok["final_loss_high"])
    )
    assert results[2]["ok"] == "0" and results[2]["final_loss_mean"] == ""
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interval"]["method"] == "t" and len(summary["cells"]) == 4
    card = lilyvae.load_model(out / "members" / "c001-s00.pt").card
    assert card.training["recipe"]["beta"] == 1.0
    assert card.extra["ensemble"]["params"]["beta"] == 1.0


def test_sweep_api_takes_a_dict(tmp_path, data):
    base = make_config("unsupervised", "hybrid", epochs=1)
    result = sweep(
        data,
        base,
        {"mask_ratio": [0.1, 0.3]},
        seeds=1,
        output_dir=tmp_path,
        workers=1,
        evaluation=None,
    )
    assert [c["params"] for c in result.summary["cells"]] == [
        {"mask_ratio": 0.1},
        {"mask_ratio": 0.3},
    ]


# --- Ray --------------------------------------------------------------------------------------


def test_ray_backend_gives_the_local_bytes(tmp_path, small_csv, capsys):
    pytest.importorskip("ray")
    common = ["--model", "unsupervised", "--n", "3", "--data", small_csv, "--epochs", "2"]
    common += ["--quiet", "--no-eval"]
    code, _, err = run(["bootstrap", *common, "--output-dir", tmp_path / "local"], capsys)
    assert code == 0, err
    args = ["bootstrap", *common, "--output-dir", tmp_path / "ray", "--backend", "ray"]
    code, stdout, err = run([*args, "--workers", "2"], capsys)
    assert code == 0, err
    assert "3 of 3 members ok" in stdout
    for name in ("m0000", "m0001", "m0002"):
        a = (tmp_path / "local" / "members" / f"{name}.pt").read_bytes()
        assert a == (tmp_path / "ray" / "members" / f"{name}.pt").read_bytes()
    assert (tmp_path / "local" / "members.csv").read_text() == (
        tmp_path / "ray" / "members.csv"
    ).read_text()


# --- bad input --------------------------------------------------------------------------------


def test_bad_input_is_one_line(tmp_path, small_csv, capsys, monkeypatch):
    base = ["--model", "unsupervised", "--data", small_csv, "--quiet"]
    boot = ["bootstrap", *base, "--output-dir", tmp_path / "b"]
    cases = [
        ([*boot, "--n", "0"], 2, "--n: must be a positive integer, not 0"),
        ([*boot], 2, "the following arguments are required: --n"),  # shown as required
        (
            ["sweep", *base, "--output-dir", tmp_path / "s", "--grid", "gamma=1,2"],
            1,
            "unknown hyper-parameter 'gamma'",
        ),
        (
            ["sweep", *base, "--output-dir", tmp_path / "s", "--grid", "beta=0.1,x"],
            1,
            "'x' is not a number",
        ),
        (
            ["sweep", *base, "--output-dir", tmp_path / "s", "--grid", "epochs=0"],
            1,
            "epochs must be a positive integer",
        ),
    ]
    for args, status, says in cases:
        code, _, err = run(args, capsys)
        assert code == status and len(err) == 1 and says in err[0], (args, err)
        assert "Traceback" not in err[0]

    # Ray asked for but not installed: say how to install it
    monkeypatch.setitem(sys.modules, "ray", None)
    code, _, err = run([*boot, "--n", "2", "--backend", "ray"], capsys)
    assert code == 1 and len(err) == 1 and "pip install 'lilyvae[ray]'" in err[0]
    monkeypatch.undo()

    # A directory holding a different run
    code, _, err = run([*boot, "--n", "1", "--epochs", "1", "--no-eval"], capsys)
    assert code == 0, err
    code, _, err = run([*boot, "--n", "1", "--epochs", "2", "--no-eval"], capsys)
    assert code == 1 and len(err) == 1
    assert "holds a different bootstrap run" in err[0] and "--resume" in err[0]
    assert not (tmp_path / "s").exists()  # bad grids wrote nothing
