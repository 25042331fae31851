"""Evaluation: ViSQOL guards and sanity, peer codecs, the table command, the callback, the listening page."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import FIXTURES, load_fixture
from tests.helpers import smoke_config


@pytest.fixture(scope="module")
def visqol():
    from dps.eval import Visqol

    return Visqol("audio")


def test_visqol_identical_scores_highest_and_noise_lowers_it_monotonically(visqol):
    x = load_fixture("speech")[:44100]
    g = np.random.default_rng(0)
    noise = g.standard_normal(x.size)
    rms = np.sqrt(np.mean(x**2))
    scores = [visqol(x, x, 22050)]
    for snr in (40, 25, 10):
        scores.append(visqol(x, x + noise * rms * 10 ** (-snr / 20), 22050))
    assert all(a > b for a, b in zip(scores, scores[1:])), scores
    assert scores[0] > 4.5
    r = visqol.measure(x, x + noise * rms * 10 ** (-25 / 20), 22050)  # the whole result behind a score
    assert float(r.moslqo) == pytest.approx(scores[2], rel=1e-9) and len(r.fvnsim) == len(r.center_freq_bands) == 32
    assert float(np.max(r.fvnsim)) <= 1.0


def test_visqol_guards_are_clear_errors(visqol):
    from dps.eval import Visqol, VisqolError

    x = load_fixture("music")[:44100]
    with pytest.raises(VisqolError, match="0.50 s is too short; audio mode needs at least 1.0 s"):
        visqol(x[:11025], x[:11025], 22050)
    with pytest.raises(VisqolError, match="silent"):
        visqol(x, np.zeros_like(x), 22050)
    with pytest.raises(VisqolError, match="non-finite"):
        visqol(x, np.where(np.arange(x.size) == 5, np.nan, x), 22050)
    with pytest.raises(VisqolError, match="mono"):
        visqol(np.stack([x, x]), x, 22050)
    with pytest.raises(VisqolError, match="lengths differ"):
        visqol(x, x[: x.size // 2], 22050)
    with pytest.raises(VisqolError, match="sample rate"):
        visqol(x, x, 0)
    assert Visqol("speech").metric_name == "visqol_speech_16k"
    assert visqol.metric_name == "visqol_audio_48k"


def test_align_recovers_a_known_delay():
    from dps.eval.peers import align

    x = load_fixture("music")[:22050]
    for lag in (0, 37, 1500, -200):
        y = np.concatenate([np.zeros(lag), x])[: x.size] if lag >= 0 else np.concatenate([x[-lag:], np.zeros(-lag)])
        aligned, found = align(x, y)
        assert found == lag
        assert aligned.size == x.size


def test_missing_peer_tool_is_a_clear_reason(monkeypatch):
    from dps.eval.peers import PeerUnavailable, peer_roundtrip

    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(PeerUnavailable, match="opusenc not found .*apt-get install"):
        peer_roundtrip("opus", load_fixture("speech")[:22050], 16)


@pytest.mark.parametrize("codec", ["opus", "aac", "mp3"])
def test_peer_codecs_hit_their_bitrate_and_decode_aligned(codec):
    from dps.eval.metrics import snr_db
    from dps.eval.peers import peer_roundtrip

    assert shutil.which({"opus": "opusenc", "aac": "ffmpeg", "mp3": "lame"}[codec]), "README set-up installs it"
    x = load_fixture("music")
    r = peer_roundtrip(codec, x, 48)
    kbps = r.bits / (x.size / 22050) / 1000
    assert 40 < kbps < 60, kbps  # containers add headers on a 6 s file
    assert r.audio.shape == x.shape
    assert snr_db(x, r.audio) > 3.0  # misaligned output would be near 0 dB or below


def _table(tmp_path: Path, prior: Path, *extra: str) -> int:
    from dps.cli import main

    return main(
        [
            "eval",
            "table",
            "--content",
            "speech,piano",
            "--items",
            f"speech={FIXTURES / 'speech.flac'}",
            "--items",
            f"piano={FIXTURES / 'piano.flac'}",
            "--priors",
            str(prior),
            "--bitrates",
            "8,16",
            "--seconds",
            "1.5",
            "--set",
            "levels=3",
            "--set",
            "steps_per_level=1",
            "--out",
            str(tmp_path / "out"),
            "--cache",
            str(tmp_path / "cache"),
            "--workers",
            "2",
            "--no-progress",
            *extra,
        ]
    )


def test_table_command_writes_every_file_and_fills_or_explains_every_cell(smoke_prior_file, tmp_path, capsys):
    assert _table(tmp_path, smoke_prior_file) == 0
    out = tmp_path / "out"
    for name in ("results.csv", "summary.json", "table.md", "visqol_vs_bitrate.png", "listening.html"):
        assert (out / name).stat().st_size > 0, name
    rows = list(csv.DictReader(open(out / "results.csv")))
    decoders = {"legacy", "dps-noisy[smoke]", "dps-tweedie[smoke]", "opus", "aac", "mp3"}
    assert {r["decoder"] for r in rows} == decoders
    assert len(rows) == 2 * 2 * len(decoders)
    for r in rows:
        assert (r["visqol_audio_48k"] != "") != (r["missing"] != ""), r
        if r["visqol_audio_48k"]:
            assert 1.0 <= float(r["visqol_audio_48k"]) <= 5.0
            assert float(r["actual_kbps"]) > 0.8 * float(r["bitrate"])
    dps = [r for r in rows if r["decoder"].startswith("dps-")]
    assert all(r["nfe"] == "2" for r in dps)  # levels 0.03, 3e-4, 3e-6: the network skips the last (< sigma_min 1e-4)
    assert all(r["vjp"] == ("2" if "tweedie" in r["decoder"] else "0") for r in dps)
    summary = json.loads((out / "summary.json").read_text())
    assert {c["decoder"] for c in summary["cells"]} == decoders
    md = (out / "table.md").read_text()
    assert "### speech" in md and "### piano" in md and "| 16 | " in md
    assert "### speech — visqol_audio_48k minus legacy, paired per item" in md
    assert {g["decoder"] for g in summary["gains_vs_legacy"]} == {d for d in decoders if d != "legacy"} - {
        c["decoder"] for c in summary["cells"] if c["n"] == 0
    }
    first = (out / "results.csv").read_bytes()
    # a rerun is served from the cache: same results, and no decoder is called
    from dps.eval import table as T

    def boom(*a, **k):
        raise AssertionError("decoded again despite the cache")

    T.decode_legacy, saved = boom, T.decode_legacy
    try:
        assert _table(tmp_path, smoke_prior_file) == 0
    finally:
        T.decode_legacy = saved
    assert (out / "results.csv").read_bytes() == first


def test_table_on_two_processes_matches_one_and_the_parent_only_assembles(smoke_prior_file, tmp_path):
    from dps.eval import table as T

    decoders = ("--decoders", "legacy,dps-noisy", "--listen-items", "0")
    assert _table(tmp_path / "one", smoke_prior_file, *decoders) == 0

    def boom(*a, **k):
        raise AssertionError("the parent decoded: the shard processes should have filled the cache")

    T.decode_legacy, saved = boom, T.decode_legacy
    try:
        assert _table(tmp_path / "two", smoke_prior_file, *decoders, "--devices", "2", "--device", "cpu") == 0
    finally:
        T.decode_legacy = saved
    one, two = (list(csv.DictReader(open(tmp_path / d / "out" / "results.csv"))) for d in ("one", "two"))
    assert [(r["item"], r["bitrate"], r["decoder"]) for r in one] == [
        (r["item"], r["bitrate"], r["decoder"]) for r in two
    ]
    for a, b in zip(one, two):
        assert abs(float(a["visqol_audio_48k"]) - float(b["visqol_audio_48k"])) < 0.02, (a, b)  # thread rounding only


def test_table_marks_missing_tools_and_priors_with_reasons(smoke_prior_file, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    from dps.cli import main

    code = main(
        ["eval", "table", "--content", "organ", "--items", f"organ={FIXTURES / 'piano.flac'}", "--priors", "matched",
         "--bitrates", "16", "--seconds", "1", "--decoders", "legacy,dps-noisy,opus", "--out", str(tmp_path / "o"),
         "--no-cache", "--workers", "1", "--no-progress"]
    )  # fmt: skip
    assert code == 0
    rows = {r["decoder"]: r for r in csv.DictReader(open(tmp_path / "o" / "results.csv"))}
    assert rows["legacy"]["visqol_audio_48k"]
    assert "not a shipped prior" in rows["dps-noisy[organ]"]["missing"]  # no organ prior is shipped
    assert "opusenc not found" in rows["opus"]["missing"]
    assert "missing: opusenc not found" in (tmp_path / "o" / "table.md").read_text()


def test_table_bad_arguments_are_one_line_errors(tmp_path, capsys):
    from dps.cli import main

    assert main(["eval", "table", "--decoders", "legacy,wav2vec", "--out", str(tmp_path)]) == 2
    assert "unknown ['wav2vec']" in capsys.readouterr().err
    assert (
        main(["eval", "table", "--content", "speech", "--items", "speech=/no/such.flac", "--out", str(tmp_path)]) == 2
    )
    assert "no such manifest, audio file or folder" in capsys.readouterr().err
    assert main(["eval", "table", "--set", "levels", "--out", str(tmp_path)]) == 2
    assert main(["eval", "checkpoints", str(tmp_path)]) == 2
    assert "no checkpoints" in capsys.readouterr().err


@pytest.fixture(scope="module")
def visqol_run(tmp_path_factory):
    from dps.prior.training import train

    tmp = tmp_path_factory.mktemp("visqolrun")
    cfg = smoke_config(
        tmp,
        "trainer.max_steps=20",
        "checkpoint.every_n_steps=10",
        "visqol.enabled=true",
        "visqol.monitor=true",
        f"visqol.items={FIXTURES / 'piano.flac'}",
        "visqol.n_items=1",
        "visqol.seconds=1.0",
        "visqol.bitrates=[8,16]",
        "visqol.overrides.levels=3",
        "visqol.overrides.steps_per_level=1",
    )
    return train(cfg)


def test_visqol_callback_logs_the_metric_keys_to_csv(visqol_run):
    metrics = next(visqol_run.glob("csv/version_*/metrics.csv"))
    rows = list(csv.DictReader(open(metrics)))
    keys = {"visqol/dps_8k", "visqol/legacy_8k", "visqol/delta_8k", "visqol/dps_16k", "visqol/delta"}
    assert keys <= set(rows[0])
    logged = [r for r in rows if r["visqol/dps_16k"]]
    assert len(logged) == 2  # two validation runs
    for r in logged:
        assert 1.0 <= float(r["visqol/dps_16k"]) <= 5.0
        assert float(r["visqol/delta_16k"]) == pytest.approx(float(r["visqol/dps_16k"]) - float(r["visqol/legacy_16k"]))
    assert list((visqol_run / "checkpoints").glob("best-visqol-*.ckpt"))


VISQOL_ON = (
    "visqol.enabled=true",
    f"visqol.items={FIXTURES / 'piano.flac'}",
    "visqol.n_items=1",
    "visqol.seconds=1.0",
    "visqol.bitrates=[16]",
    "visqol.overrides.levels=3",
    "visqol.overrides.steps_per_level=1",
)


def test_visqol_callback_never_moves_or_changes_the_training_network(tmp_path, monkeypatch):
    import torch

    from dps.eval import checkpoints as C
    from dps.prior.training import train

    watched: set[int] = set()
    moved: list[str] = []
    real_apply = torch.nn.Module._apply

    def spy(self, fn, *args, **kwargs):  # every .to/.cpu/.cuda/.half goes through _apply
        if id(self) in watched:
            moved.append(type(self).__name__)
        return real_apply(self, fn, *args, **kwargs)

    original, unchanged = C.VisqolCallback.on_validation_epoch_end, []

    def watching(self, trainer, pl_module):
        before = {n: (p.device, p.detach().clone()) for n, p in pl_module.named_parameters()}
        watched.update(id(m) for m in pl_module.modules())
        try:
            original(self, trainer, pl_module)
        finally:
            watched.clear()
        unchanged.append(
            all(p.device == before[n][0] and torch.equal(p, before[n][1]) for n, p in pl_module.named_parameters())
        )

    monkeypatch.setattr(torch.nn.Module, "_apply", spy)
    monkeypatch.setattr(C.VisqolCallback, "on_validation_epoch_end", watching)
    runs = {}
    for name, extra in (("off", ()), ("on", VISQOL_ON)):
        runs[name] = train(smoke_config(tmp_path / name, "trainer.max_steps=20", *extra))
    assert unchanged == [True, True] and moved == []  # two validation runs, at steps 10 and 20
    rows = list(csv.DictReader(open(next(runs["on"].glob("csv/version_*/metrics.csv")))))
    assert [float(r["visqol/seconds"]) > 0 for r in rows if r.get("visqol/seconds")] == [True, True]
    off = torch.load(runs["off"] / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    on = torch.load(runs["on"] / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert on["global_step"] == off["global_step"] == 20
    for key in ("state_dict", "current_model_state"):  # the EMA weights, and the weights being trained
        for k, v in off[key].items():
            assert torch.equal(v, on[key][k]), (key, k)
    for k, v in off["optimizer_states"][0]["state"].items():
        assert torch.equal(v["exp_avg"], on["optimizer_states"][0]["state"][k]["exp_avg"]), k


def test_checkpoints_command_scores_every_step(visqol_run):
    from dps.cli import main

    assert main(["eval", "checkpoints", str(visqol_run), "--bitrates", "16", "--seconds", "1", "--no-progress"]) == 0
    rows = list(csv.DictReader(open(visqol_run / "eval" / "visqol_vs_step.csv")))
    assert [int(r["step"]) for r in rows] == [10, 20]
    assert all(1.0 <= float(r["visqol/dps_16k"]) <= 5.0 for r in rows)
    assert (visqol_run / "eval" / "visqol_vs_step.png").stat().st_size > 0
    # Two processes (one step each) give the same rows to rounding, and leave no shard files.
    args = ["eval", "checkpoints", str(visqol_run), "--bitrates", "16", "--seconds", "1", "--no-progress"]
    assert main([*args, "--devices", "2", "--device", "cpu"]) == 0
    two = list(csv.DictReader(open(visqol_run / "eval" / "visqol_vs_step.csv")))
    assert [r["step"] for r in two] == [r["step"] for r in rows] and not list((visqol_run / "eval").glob("shard-*"))
    for a, b in zip(rows, two):
        assert (
            abs(float(a["visqol/dps_16k"]) - float(b["visqol/dps_16k"])) < 0.02
            and a["visqol/legacy_16k"] == b["visqol/legacy_16k"]
        )


def test_listening_page_plays_rates_and_exports_in_headless_chromium(tmp_path):
    from playwright.sync_api import sync_playwright

    from dps.eval.items import Item
    from dps.eval.listening import write_listening_page

    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is part of the README set-up"
    items = [Item(f"speech/{n}", "speech", load_fixture(n)[:11025]) for n in ("speech", "music")]
    decoded = {it.name: {"legacy": it.audio * 0.9, "dps-noisy[x]": it.audio * 0.8} for it in items}
    scores = {it.name: {"legacy": 4.1, "dps-noisy[x]": 4.2} for it in items}
    page = write_listening_page(tmp_path / "listen.html", items, decoded, scores, "test")
    flags = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=flags)
        tab = browser.new_page()
        tab.goto(page.as_uri())
        audio = tab.locator("audio")
        assert audio.count() == 2 * (1 + 4)  # reference + 2 decoders + hidden reference + anchor
        tab.wait_for_function(
            "[...document.querySelectorAll('audio')].every(a => a.readyState >= 1 && a.duration > 0.4)", timeout=20000
        )
        assert tab.evaluate("[...document.querySelectorAll('audio')].every(a => a.error === null)")
        slider = tab.locator("input.rating").first
        slider.fill("87")
        tab.click("#export")
        text = tab.locator("#csv").input_value()
        browser.close()
    lines = text.strip().splitlines()
    assert lines[0] == "rater,item,condition,rating"
    assert len(lines) == 2
    rater, item, condition, rating = lines[1].split(",")
    assert (item, rating) == ("speech/speech", "87")
    assert condition in {"legacy", "dps-noisy[x]", "hidden_reference", "anchor_lp3500"}


def test_loudest_excerpt_and_item_selection(tmp_path):
    from dps.eval.items import items_from, loudest_excerpt

    x = np.zeros(22050 * 3)
    x[22050:30000] = 1.0  # starts on the 0.1 s grid
    y = loudest_excerpt(x, 11025)
    assert y.size == 11025 and y.sum() == 7950
    items = items_from(FIXTURES / "manifest.jsonl", "any", n=5, seconds=1.0)
    assert [it.name for it in items] == ["any/piano"]  # the fixture manifest's only validation entry
    assert items[0].audio.size == 22050


def test_tuning_items_are_disjoint_from_table_items(tmp_path):
    import soundfile as sf

    from dps.eval.items import items_from

    for i in range(12):
        sf.write(tmp_path / f"f{i:02d}.wav", np.sin(np.arange(22050) * (i + 1) / 50) * 0.1, 22050)
    table = {it.name for it in items_from(tmp_path, "c", n=4, seconds=0.5)}
    tune = {it.name for it in items_from(tmp_path, "c", n=4, seconds=0.5, offset=0.5)}
    assert len(table) == len(tune) == 4 and not table & tune
    with pytest.raises(ValueError, match="offset"):
        items_from(tmp_path, "c", n=4, offset=1.0)
    # A file too short for ViSQOL is replaced by the next one; the other picks do not move.
    sf.write(tmp_path / "f03.wav", np.ones(11025) * 0.1, 22050)
    picked = [it.name for it in items_from(tmp_path, "c", n=4, seconds=4.0)]
    assert picked == ["c/f00", "c/f04", "c/f06", "c/f09"]
    assert [it.name for it in items_from(tmp_path, "c", n=4, seconds=0.5)] == ["c/f00", "c/f03", "c/f06", "c/f09"]


def test_eval_sets_name_their_manifests_and_an_unknown_one_is_refused(tmp_path):
    from dps.eval.items import eval_set_manifest

    assert eval_set_manifest(tmp_path, "validation", "piano") == tmp_path / "piano" / "manifest.jsonl"
    assert eval_set_manifest(tmp_path, "cross", "music") == tmp_path / "cross" / "music" / "manifest.jsonl"
    assert eval_set_manifest(tmp_path, "tuning", "piano") == tmp_path / "tuning" / "piano" / "manifest.jsonl"
    with pytest.raises(ValueError, match="expected one of validation, cross, tuning, got 'heldout'"):
        eval_set_manifest(tmp_path, "heldout", "piano")


def test_items_with_the_same_file_name_get_distinct_names(tmp_path):
    """Two pieces' movement1-0 (piano's validation split has both) must not share a name: tables pair by name."""
    import soundfile as sf

    from dps.eval.items import items_from

    for folder, freq in (("beethoven", 3), ("mozart", 5), ("joplin", 7)):
        (tmp_path / folder).mkdir()
        sf.write(tmp_path / folder / "movement1-0.wav", np.sin(np.arange(22050) * freq / 50) * 0.1, 22050)
    sf.write(tmp_path / "joplin" / "rag.wav", np.sin(np.arange(22050) / 9) * 0.1, 22050)
    names = [it.name for it in items_from(tmp_path, "piano", n=4, seconds=0.5)]
    assert names == ["piano/beethoven/movement1-0", "piano/joplin/movement1-0", "piano/rag", "piano/mozart/movement1-0"]
    # Folder names collide too (a/x/m and b/x/m): the pick's rank tells them apart.
    for top in ("a", "b"):
        (tmp_path / "deep" / top / "x").mkdir(parents=True)
        sf.write(tmp_path / "deep" / top / "x" / "m.wav", np.sin(np.arange(22050) / 11) * 0.1, 22050)
    assert [it.name for it in items_from(tmp_path / "deep", "c", n=2, seconds=0.5)] == ["c/x/m#0", "c/x/m#1"]


def test_oracles_restore_exactly_the_part_they_name_and_restoring_uncoded_bins_beats_legacy(visqol):
    import torch

    from dps.codec.encoder import analyze, encode_payload
    from dps.codec.measurements import measurements_from_payload
    from dps.dsp.mdct import imdct
    from dps.eval.oracles import ORACLES, oracle_coefficients

    x = load_fixture("music")[:44100]
    m = measurements_from_payload(encode_payload(x, 16))
    ref = analyze(x, m.params)
    o = oracle_coefficients(m, ref)
    unc = ~m.coded
    assert list(o) == ORACLES and 0.3 < unc.mean() < 1.0
    np.testing.assert_array_equal(o["true_coded"][~unc], ref[~unc])
    np.testing.assert_array_equal(o["true_coded"][unc], o["legacy"][unc])
    np.testing.assert_array_equal(o["true_uncoded"][unc], ref[unc])
    np.testing.assert_array_equal(np.abs(o["uncoded_magnitude"][unc]), np.abs(ref[unc]))
    # Frame-energy oracle: every (frame, band) cell's uncoded bins carry the reference's energy.
    cells = (np.arange(m.num_frames)[:, None] * m.params.num_bands + m.band_of_bin[None, :])[unc]

    def energy(c):
        return np.bincount(cells, weights=c[unc] ** 2, minlength=m.num_frames * m.params.num_bands)

    filled = energy(o["legacy"]) > 0
    assert filled.sum() > 100
    np.testing.assert_allclose(energy(o["uncoded_frame_energy"])[filled], energy(ref)[filled], rtol=1e-9)
    scores = {k: visqol(x, imdct(torch.from_numpy(c), m.num_samples).numpy(), 22050) for k, c in o.items()}
    assert scores["true_uncoded"] > scores["legacy"] + 0.05, scores


def test_paired_gains_are_per_item_differences_with_a_t_interval():
    from scipy import stats

    from dps.eval.table import Row, paired_gains

    m = "visqol_audio_48k"
    legacy, dps = [4.0, 4.1, 4.2, 4.3], [4.1, 4.1, 4.5, 3.0]
    rows = [Row("speech", f"i{k}", 16.0, "legacy", scores={m: v}) for k, v in enumerate(legacy)]
    rows += [Row("speech", f"i{k}", 16.0, "dps-noisy[p]", scores={m: v}) for k, v in enumerate(dps[:3])]
    rows.append(Row("speech", "i3", 16.0, "dps-noisy[p]", reason="the sampler diverged"))  # left out of the pairs
    rows.append(Row("speech", "i0", 16.0, "opus", reason="opusenc not found"))  # no pair at all: no entry
    (g,) = paired_gains(rows, m)
    d = np.array([0.1, 0.0, 0.3])
    assert g["decoder"] == "dps-noisy[p]" and g["n"] == 3 and g["better"] == 2
    assert g["gain"] == pytest.approx(d.mean()) and g["worst"] == pytest.approx(0.0, abs=1e-12)
    assert g["ci95"] == pytest.approx(stats.t.ppf(0.975, 2) * d.std(ddof=1) / np.sqrt(3))


def test_table_item_offset_picks_the_tuning_items_between_the_table_items(tmp_path):
    import argparse

    import soundfile as sf

    from dps.cli.evaluate import _items

    folder = tmp_path / "music"
    folder.mkdir()
    for i in range(8):
        sf.write(folder / f"t{i}.wav", np.random.default_rng(i).standard_normal(22050 * 2) * 0.1, 22050)
    args = argparse.Namespace(items=[f"music={folder}"], content="music", data_root=tmp_path, eval_set="validation",
                              n_items=4, seconds=1.5, item_offset=0.0)  # fmt: skip
    assert [it.name for it in _items(args)] == ["music/t0", "music/t2", "music/t4", "music/t6"]
    args.item_offset = 0.5
    assert [it.name for it in _items(args)] == ["music/t1", "music/t3", "music/t5", "music/t7"]
    args.item_offset = 1.0
    with pytest.raises(ValueError, match=r"offset: expected a value in \[0, 1\), got 1.0"):
        _items(args)
