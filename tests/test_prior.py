"""Score priors: training runs, resume, DDP, export, logging, and a closed-form check of the schedule."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from dps.prior.export import PriorError, export_prior, load_prior
from dps.prior.module import ScorePriorModule
from dps.prior.training import train
from tests.helpers import ROOT, smoke_config


def _run(cmd: list, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=600, env=env)


def _train_cli(*args: str) -> subprocess.CompletedProcess:
    return _run([sys.executable, "train.py", *args])


def test_dry_run_prints_resolved_config():
    proc = _train_cli("configs/prior/speech.yaml", "size=base", "--dry-run", "data.source_weights.klettres-data=3")
    assert proc.returncode == 0, proc.stderr
    assert "content: speech" in proc.stdout and "size: base" in proc.stdout and "channels:" in proc.stdout
    assert "klettres-data: 3" in proc.stdout  # overrides after the flag count too


def test_bad_override_is_one_line_error():
    proc = _train_cli("configs/prior/speech.yaml", "size=huge", "--dry-run")
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and "huge" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_override_must_name_a_field_or_add_one_with_plus(tmp_path):
    """Hydra's dotlist rule: a misspelt key is a one-line error, +key adds one, free-form mappings take new keys."""
    from dps.prior.config import load_prior_config

    speech = ROOT / "configs" / "prior" / "speech.yaml"
    with pytest.raises(ValueError, match=r"override data\.sourceweights\.x: no such field under data .*\+data"):
        load_prior_config(speech, ["data.sourceweights.x=1"])
    with pytest.raises(ValueError, match="expected key=value"):
        load_prior_config(speech, ["trainer.max_steps"])
    with pytest.raises(ValueError, match="expected key=value"):
        load_prior_config(speech, ["size"])
    config = load_prior_config(speech, ["+trainer.fast_dev_run=true", "data.source_weights.a=2", "network.kernel=5"])
    assert config["trainer"]["fast_dev_run"] is True and "+trainer" not in config
    assert config["data"]["source_weights"] == {"a": 2} and config["network"]["kernel"] == 5
    # a source name is a key, not a field, also where the content YAML already weights another source
    weighted = tmp_path / "weighted.yaml"
    weighted.write_text("content: speech\ndata: {source_weights: {klettres-data: 2}}\n")
    config = load_prior_config(weighted, ["data.source_weights.other=3", "visqol.overrides.levels=10"])
    assert config["data"]["source_weights"] == {"klettres-data": 2, "other": 3}
    assert config["visqol"]["overrides"] == {"levels": 10}


def test_fast_dev_run(tmp_path):
    run = train(smoke_config(tmp_path, "+trainer.fast_dev_run=true"))
    assert (run / "config.yaml").is_file()
    assert json.loads((run / "summary.json").read_text())["global_step"] == 1  # one batch, not the 20 steps
    assert not (run / "checkpoints" / "last.ckpt").exists()  # nothing for a later run in this folder to resume


@pytest.mark.parametrize("family", ["wave_unet", "mdct_unet"])
def test_loss_halves_on_one_segment(family, tmp_path):
    """A few hundred steps on one fixture segment (memorization) cut the loss by half."""
    from tests.conftest import load_fixture

    cfg = smoke_config(tmp_path, f"family={family}", "schedule.sigma_min=0.01")
    if family == "mdct_unet":
        cfg["network"] = {"family": "mdct_unet", "channels": [16, 24, 32], "blocks": 1, "emb_dim": 32}
    torch.manual_seed(0)
    module = ScorePriorModule(cfg)
    x = torch.from_numpy(load_fixture("speech")[22050 : 22050 + 8192]).float()
    x = (x * 0.1 / x.pow(2).mean().sqrt())[None].repeat(8, 1)
    opt = torch.optim.Adam(module.parameters(), lr=2e-3)
    g = torch.Generator().manual_seed(0)
    sig = module.schedule.sample(64, generator=g)
    noise = torch.randn(64, 8192, generator=g)

    def fixed_loss():
        with torch.no_grad():
            return float(module._loss(x.repeat(8, 1), sig, noise).mean())

    before = fixed_loss()
    for _ in range(300):
        sigma = module.schedule.sample(8, generator=g)
        loss = module._loss(x, sigma, torch.randn(x.shape, generator=g)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = fixed_loss()
    assert after < 0.5 * before, (before, after)


def test_mdct_unet_keeps_its_transforms_in_float32_under_bf16_autocast(monkeypatch):
    """Under autocast (bf16-mixed training, bf16 decoding) only the U-Net body runs in bfloat16, not the MDCT."""
    import dps.prior.unet2d as unet2d

    seen = []

    def spy(f):
        def wrapped(*args, **kwargs):
            out = f(*args, **kwargs)
            seen.append((f.__name__, out.dtype))
            return out

        return wrapped

    monkeypatch.setattr(unet2d, "mdct", spy(unet2d.mdct))
    monkeypatch.setattr(unet2d, "imdct", spy(unet2d.imdct))
    net = unet2d.MDCTUNet(channels=(8, 16), blocks=1, emb_dim=16)
    x = torch.randn(2, 4096)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        y = net(x, torch.zeros(2))
    assert seen == [("mdct", torch.float32), ("imdct", torch.float32)] and y.dtype == torch.float32


@pytest.mark.parametrize("family", ["wave_unet", "mdct_unet"])
def test_one_film_matmul_equals_each_blocks_own(family):
    """The body computes every ResBlock's FiLM in one matmul; the network must equal its per-block form."""
    from dps.prior.layers import ResBlock
    from dps.prior.unet1d import WaveUNet
    from dps.prior.unet2d import MDCTUNet

    torch.manual_seed(0)
    if family == "wave_unet":
        net = WaveUNet(patch=16, channels=(8, 16, 24), blocks=2, kernel=3, emb_dim=16, attention=True, heads=2)
    else:
        net = MDCTUNet(channels=(8, 16, 24), blocks=2, emb_dim=16, attention=True, heads=2)
    for p in net.parameters():  # the zero-initialized convolutions would hide the FiLM
        torch.nn.init.normal_(p, std=0.1)
    x, c = torch.randn(2, 4096, dtype=torch.float64), torch.tensor([-1.0, 0.5], dtype=torch.float64)
    net = net.double()
    blocks = [m for m in net.modules() if isinstance(m, ResBlock)]
    films = net.block_films(net.emb(c))
    assert len(films) == len(blocks) == 3 * 2 + 2 + 3 * 2
    with torch.no_grad():
        batched = net(x, c)
        for b in blocks:  # each block's own projection (order as in the body, checked by the equality below)
            b.forward = (lambda blk: lambda h, emb, film=None: ResBlock.forward(blk, h, emb))(b)
        own = net(x, c)
    torch.testing.assert_close(batched, own, rtol=1e-12, atol=1e-12)


def test_gaussian_data_learns_the_analytic_score(tmp_path):
    """Data x ~ N(0, s0^2 I) has score -x/(s0^2 + sigma^2) at every sigma; s0 != sigma_data so F must learn."""
    s0 = 0.03
    cfg = smoke_config(tmp_path, "schedule.sigma_min=0.003", "schedule.sigma_max=0.3")
    torch.manual_seed(0)
    module = ScorePriorModule(cfg)
    opt = torch.optim.Adam(module.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(1)
    for _ in range(300):
        x0 = s0 * torch.randn(8, 4096, generator=g)
        loss = module._loss(x0, module.schedule.sample(8, generator=g), torch.randn(8, 4096, generator=g)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    errs = []
    with torch.no_grad():
        for sigma in (0.01, 0.03, 0.1):
            x = torch.randn(8, 4096, generator=g) * (s0**2 + sigma**2) ** 0.5
            s = torch.full((8,), sigma)
            exact = -x / (s0**2 + sigma**2)
            got = module.denoiser.score(x, s)
            errs.append(float((got - exact).norm() / exact.norm()))
            untrained = ScorePriorModule(cfg).denoiser.score(x, s)
            assert float((untrained - exact).norm() / exact.norm()) > 2 * errs[-1]
    assert max(errs) < 0.4, errs  # 300 steps: 0.33 at worst; 0.23 after 500 (it keeps approaching)


def _weights(ckpt):
    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    return state["state_dict"], state["current_model_state"], state["global_step"]


def test_resume_matches_uninterrupted(tmp_path):
    full = train(smoke_config(tmp_path / "a", "trainer.max_steps=20"))
    part = smoke_config(tmp_path / "b", "trainer.max_steps=10")
    train(part)
    part["trainer"]["max_steps"] = 20
    resumed = train(part)
    ema_a, cur_a, step_a = _weights(full / "checkpoints" / "last.ckpt")
    ema_b, cur_b, step_b = _weights(resumed / "checkpoints" / "last.ckpt")
    assert step_a == step_b == 20
    for k in cur_a:
        torch.testing.assert_close(cur_a[k], cur_b[k], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(ema_a[k], ema_b[k], rtol=1e-5, atol=1e-6)


def test_a_resume_that_would_train_nothing_is_a_one_line_error(tmp_path):
    config = smoke_config(tmp_path, "trainer.max_steps=4", "trainer.max_time=00:00:10:00")
    last = train(config) / "checkpoints" / "last.ckpt"
    with pytest.raises(ValueError, match="at step 4 and trainer.max_steps is 4: raise it"):
        train(config)
    # max_time counts the whole run (Lightning restores the elapsed time): a shorter one than already spent stops
    config["trainer"].update(max_steps=8, max_time={"microseconds": 1})
    with pytest.raises(ValueError, match=r"has trained .* min and trainer.max_time is \{'microseconds': 1\}, .*whole"):
        train(config)
    assert torch.load(last, map_location="cpu", weights_only=True)["global_step"] == 4  # nothing trained or saved
    config["trainer"]["max_time"] = "00:00:10:00"
    assert torch.load(train(config) / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 8


def test_ddp_two_cpu_processes(tmp_path):
    run_dir = tmp_path / "ddp"
    env = dict(os.environ, WANDB_MODE="offline", PYTHONPATH=str(ROOT))
    args = ["configs/prior/smoke.yaml", f"run_dir={run_dir}", "trainer.devices=2", "trainer.strategy=ddp"]
    proc = _run([sys.executable, "train.py", *args, "trainer.accelerator=cpu", "trainer.max_steps=6"], env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    d0 = (run_dir / "weights_rank0.sha256").read_text()
    d1 = (run_dir / "weights_rank1.sha256").read_text()
    assert d0 == d1
    left = subprocess.run(["pgrep", "-f", str(run_dir)], capture_output=True, text=True)
    assert left.stdout.strip() == "", f"processes left behind: {left.stdout}"


AUDIT = """
import os, sys
_run, _log, _busy = os.environ["DPS_AUDIT_RUN"], os.environ["DPS_AUDIT_LOG"], [False]
def _hook(event, args):
    if event != "open" or _busy[0] or not isinstance(args[0], (str, os.PathLike)):
        return
    mode, flags = args[1], args[2] or 0
    writes = any(c in mode for c in "wax+") if isinstance(mode, str) else bool(flags & (os.O_WRONLY | os.O_RDWR))
    if writes and os.fspath(args[0]).startswith(_run):
        _busy[0] = True
        with open(f"{_log}.{os.environ.get('RANK', 'none')}", "a") as f:
            f.write(os.path.relpath(os.fspath(args[0]), _run) + "\\n")
        _busy[0] = False
sys.addaudithook(_hook)
"""


def test_torchrun_two_ranks_train_resume_and_only_rank_zero_writes(tmp_path):
    """Ranks started by torchrun, not by Lightning; every file a rank opens for writing under the run folder is
    recorded by an audit hook (sitecustomize), per RANK."""
    run_dir, audit = tmp_path / "run", tmp_path / "audit"
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(AUDIT)
    env = dict(
        os.environ,
        WANDB_MODE="offline",
        PYTHONPATH=f"{tmp_path / 'site'}:{ROOT}",
        DPS_AUDIT_RUN=str(run_dir),
        DPS_AUDIT_LOG=str(audit),
    )
    launch = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    args = [
        "-m",
        "dps",
        "train",
        "smoke",
        f"run_dir={run_dir}",
        f"data.manifest={ROOT / 'tests/fixtures/manifest.jsonl'}",
    ]
    args += ["trainer.devices=2", "trainer.strategy=ddp", "trainer.accelerator=cpu"]
    for steps in (6, 12):  # the second sitting resumes from the first's last.ckpt
        proc = _run([*launch, *args, f"trainer.max_steps={steps}"], cwd=tmp_path, env=env)
        assert proc.returncode == 0, proc.stderr[-3000:]
    assert (proc.stdout + proc.stderr).count("resuming from") == 1
    assert torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 12
    assert (run_dir / "weights_rank0.sha256").read_text() == (run_dir / "weights_rank1.sha256").read_text()

    def written(rank: int) -> set[str]:  # an atomic write's temporary file ".NAME.XXXX.tmp" stands for NAME
        log = Path(f"{audit}.{rank}")
        lines = log.read_text().split() if log.exists() else []
        return {re.sub(r"(^|/)\.(.+)\.[^./]+\.tmp$", r"\1\2", p) for p in lines}

    rank0, rank1 = written(0), written(1)
    assert "config.yaml" in rank0 and any(p.startswith("samples/") for p in rank0), sorted(rank0)
    assert any(p.startswith("csv/") for p in rank0) and any(p.endswith("last.ckpt") for p in rank0), sorted(rank0)
    assert rank1 == {"weights_rank1.sha256"}, sorted(rank1)  # its own digest, nothing of the run's


def test_sigkill_resumes_within_one_interval_to_the_uninterrupted_weights(tmp_path):
    """A training process killed with SIGKILL mid-run: the rerun resumes from last.ckpt, no more than one checkpoint
    interval back, and ends on the uninterrupted run's weights exactly (mid-epoch resume included)."""
    common = ["trainer.max_steps=23", "checkpoint.every_n_steps=3"]  # 10 steps an epoch: intervals fall mid-epoch
    common.append(f"data.manifest={ROOT / 'tests' / 'fixtures' / 'manifest.jsonl'}")
    env = dict(os.environ, WANDB_MODE="offline", PYTHONPATH=str(ROOT))
    full = tmp_path / "full" / "run"  # in a process like the killed one's: thread counts change float rounding
    cmd = [sys.executable, "-m", "dps", "train", "smoke", f"run_dir={full}", *common]
    assert _run(cmd, cwd=tmp_path, env=env).returncode == 0
    run_dir = tmp_path / "killed" / "run"
    cmd = [sys.executable, "-m", "dps", "train", "smoke", f"run_dir={run_dir}", *common]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not (run_dir / "checkpoints" / "step-12.ckpt").exists() and proc.poll() is None:
        assert time.monotonic() < deadline, "no step-12 checkpoint in 300 s"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()[-2000:]
    killed_at = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["global_step"]
    assert 12 - 3 <= killed_at < 23 and killed_at % 3 == 0  # it had reached step 12: at most one interval lost
    rerun = _run(cmd, cwd=tmp_path, env=env)
    assert rerun.returncode == 0 and "resuming from" in rerun.stdout + rerun.stderr, rerun.stderr[-2000:]
    ema_a, cur_a, step_a = _weights(full / "checkpoints" / "last.ckpt")
    ema_b, cur_b, step_b = _weights(run_dir / "checkpoints" / "last.ckpt")
    assert step_a == step_b == 23
    for k in cur_a:
        assert torch.equal(cur_a[k], cur_b[k]) and torch.equal(ema_a[k], ema_b[k]), k


def test_a_checkpoint_write_that_dies_leaves_the_previous_one_whole(tmp_path, monkeypatch):
    from dps.prior.training import AtomicCheckpointIO

    io, path = AtomicCheckpointIO(), tmp_path / "checkpoints" / "last.ckpt"
    io.save_checkpoint({"global_step": 1, "w": torch.ones(1000)}, path)
    real_save = torch.save

    def dies_midway(obj, f, *args, **kwargs):
        f.write(b"PK\x03\x04 half a zip archive")
        raise OSError("killed while writing")

    monkeypatch.setattr(torch, "save", dies_midway)
    with pytest.raises(OSError, match="killed"):
        io.save_checkpoint({"global_step": 2, "w": torch.zeros(1000)}, path)
    monkeypatch.setattr(torch, "save", real_save)
    assert torch.load(path, weights_only=True)["global_step"] == 1
    assert [p.name for p in path.parent.iterdir()] == ["last.ckpt"]  # no temporary file left


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    return train(smoke_config(tmp_path_factory.mktemp("smoke"), "trainer.max_steps=10"))


def test_export_load_identical_scores(smoke_run, tmp_path):
    ckpt = smoke_run / "checkpoints" / "last.ckpt"
    out = tmp_path / "p.safetensors"
    info = export_prior(ckpt, out)
    assert info["global_step"] == 10 and info["ema"] == "averaged"
    prior = load_prior(out)
    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    module = ScorePriorModule(state["hyper_parameters"]["config"])
    module.load_state_dict(state["state_dict"])  # EMA weights
    module.eval()
    x = torch.randn(2, 5000) * 0.1
    s = torch.tensor([0.3, 0.003])
    with torch.no_grad():
        torch.testing.assert_close(prior.score(x, s), module.denoiser.score(x, s), rtol=0, atol=0)
    assert prior.config["data"]["sample_rate"] == 22050 and prior.config["schedule"]["sigma_min"] == 1e-4
    assert "codec" in prior.config and prior.content == "smoke"


def test_damaged_and_mismatched_priors_are_clear_errors(smoke_run, tmp_path):
    good = tmp_path / "p.safetensors"
    export_prior(smoke_run / "checkpoints" / "last.ckpt", good)
    data = good.read_bytes()
    (tmp_path / "trunc.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(PriorError):
        load_prior(tmp_path / "trunc.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 100)
    with pytest.raises(PriorError):
        load_prior(tmp_path / "junk.safetensors")
    from safetensors.torch import load_file, safe_open, save_file

    with safe_open(str(good), framework="pt") as f:
        meta = f.metadata()
    import json

    cfg = json.loads(meta["config"])
    cfg["network"]["channels"] = [8, 8, 8]
    meta["config"] = json.dumps(cfg)
    save_file(load_file(str(good)), str(tmp_path / "mismatch.safetensors"), metadata=meta)
    with pytest.raises(PriorError, match="do not fit"):
        load_prior(tmp_path / "mismatch.safetensors")
    with pytest.raises(PriorError, match="no such"):
        load_prior(tmp_path / "missing.safetensors")


def test_wandb_offline_run_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    run = train(smoke_config(tmp_path, "logger=wandb", "trainer.max_steps=10"))
    runs = list((run / "wandb").glob("offline-run-*"))
    assert runs, list(run.rglob("*"))[:20]
    # the offline run's record log (protobuf, LevelDB-framed) holds each logged key as plain bytes; wandb-core writes
    # it from its own process, and once under a full test run's load it held none of them when first read
    log, deadline = next(runs[0].glob("run-*.wandb")), time.monotonic() + 30
    while b"val/spectrograms" not in (blob := log.read_bytes()) and time.monotonic() < deadline:
        time.sleep(0.5)
    keys = {k for k in ("train/loss", "lr-AdamW", "val/loss", "train/grad_norm") if k.encode() in blob}
    keys |= {"train_loss_sigma/"} if b"train_loss_sigma/" in blob else set()
    keys |= {k for k in ("val/samples", "val/spectrograms") if k.encode() in blob}
    assert {"val/samples", "val/spectrograms"} <= keys, sorted(keys)
    media = list((runs[0] / "files" / "media").rglob("*"))
    assert any(p.suffix == ".wav" for p in media) and any(p.suffix == ".png" for p in media), media
    assert "train/loss" in keys and "lr-AdamW" in keys, sorted(keys)
    assert any(k.startswith("train_loss_sigma/") for k in keys), sorted(keys)
    csv = next((run / "csv").glob("version_*/metrics.csv")).read_text().splitlines()[0]
    assert "train/loss" in csv and "val/loss" in csv


def _logged_steps(run: Path) -> list[int]:
    """trainer/global_step values in an offline run's record log (protobuf: key, then value_json as bytes)."""
    log, deadline = next(run.glob("run-*.wandb")), time.monotonic() + 30
    while b"trainer/global_step" not in (blob := log.read_bytes()) and time.monotonic() < deadline:
        time.sleep(0.5)  # wandb-core writes it from its own process
    # The byte before value_json is its length: read exactly that many, since the next field may start with a digit.
    found = re.finditer(rb"trainer/global_step\x82\x01([\x01-\x09])", blob)
    return sorted({int(float(blob[m.end() : m.end() + m.group(1)[0]])) for m in found})


def test_wandb_one_run_across_sittings(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    config = smoke_config(tmp_path, "logger=wandb", "trainer.max_steps=10")
    run = train(config)
    config["trainer"]["max_steps"] = 20
    train(config)  # the second sitting resumes from last.ckpt
    run_id = (run / "wandb_id").read_text().strip()
    sittings = sorted((run / "wandb").glob("offline-run-*"))
    # W&B names a sitting's folder offline-run-TIME-ID, with "-1" added when two start within one second.
    assert len(sittings) == 2 and all(
        re.fullmatch(rf"offline-run-\d{{8}}_\d{{6}}-{run_id}(-\d+)?", p.name) for p in sittings
    )
    first, second = (_logged_steps(p) for p in sittings)
    assert first and second and max(first) == 10 and min(second) > 10 and max(second) == 20, (first, second)


def test_nonfinite_gradients_are_skipped_then_stop(tmp_path):
    module = ScorePriorModule(smoke_config(tmp_path, "max_nonfinite_steps=2"))
    for p in module.parameters():
        p.grad = torch.full_like(p, float("nan"))
    module.on_before_optimizer_step(None)  # type: ignore[arg-type]
    assert all(float(p.grad.abs().sum()) == 0 for p in module.parameters())  # the step's gradients are dropped
    with pytest.raises(RuntimeError, match="non-finite gradients"):
        for _ in range(2):
            for p in module.parameters():
                p.grad = torch.full_like(p, float("inf"))
            module.on_before_optimizer_step(None)  # type: ignore[arg-type]


def test_validation_writes_unconditional_samples(smoke_run):
    from dps.prior.samples import spectrogram_image, write_png

    wavs = sorted((smoke_run / "samples").rglob("sample0.wav"))
    pngs = sorted((smoke_run / "samples").rglob("sample0.png"))
    assert wavs and pngs
    import soundfile as sf

    audio, sr = sf.read(wavs[-1])
    assert sr == 22050 and audio.size == round(0.372 * 22050) and np.isfinite(audio).all() and np.abs(audio).max() > 0
    assert pngs[-1].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = spectrogram_image(np.sin(np.arange(22050) * 2 * np.pi * 1000 / 22050))
    assert img.shape[0] == 257 and img.dtype == np.uint8
    row = int(np.argmax(img.mean(axis=1)))  # the 1 kHz line, counted from the top (high frequencies)
    assert abs((256 - row) * 22050 / 512 - 1000) < 100
    write_png(smoke_run / "t.png", img)


def test_init_from_starts_fine_tuning_at_the_given_weights(smoke_run, tmp_path):
    """init_from loads a prior's EMA weights (from .ckpt or exported file), is recorded, and a wrong network fails."""
    ckpt = smoke_run / "checkpoints" / "last.ckpt"
    exported = tmp_path / "p.safetensors"
    export_prior(ckpt, exported)
    from dps.prior.export import init_weights

    for spec in (ckpt, exported):
        module = ScorePriorModule(smoke_config(tmp_path))
        info = init_weights(module.denoiser, str(spec))
        assert info["global_step"] == 10
        torch.testing.assert_close(
            module.denoiser.score(torch.zeros(1, 4096) + 0.01, torch.tensor([0.1])),
            load_prior(exported).score(torch.zeros(1, 4096) + 0.01, torch.tensor([0.1])),
        )
    run = train(smoke_config(tmp_path / "ft", f"init_from={exported}", "trainer.max_steps=2"))
    assert f"path: {exported}" in (run / "config.yaml").read_text()
    with pytest.raises(PriorError, match="do not fit this config's network"):
        init_weights(ScorePriorModule(smoke_config(tmp_path, "network.channels=[8,8,8]")).denoiser, str(exported))
    # init_partial: a new stem and head around the trained body (here a longer patch) start fresh, the rest loads
    wide = ScorePriorModule(smoke_config(tmp_path, "network.patch=32")).denoiser
    info = init_weights(wide, str(exported), partial=True)
    assert info["partial"]["fresh"] == ["net.head.weight", "net.stem.weight"]
    source = load_prior(exported).denoiser.state_dict()
    torch.testing.assert_close(wide.state_dict()["net.mid1.conv1.weight"], source["net.mid1.conv1.weight"])


def test_soup_is_the_weighted_mean_of_the_weights(smoke_run, tmp_path):
    """Model soup: every tensor is sum_i w_i theta_i, ingredients are recorded, and misfits are one-line errors."""
    from safetensors.torch import load_file, save_file

    from dps.cli import main
    from dps.prior.export import read_prior_metadata, soup_priors

    a = tmp_path / "a.safetensors"
    export_prior(smoke_run / "checkpoints" / "last.ckpt", a, "float32")
    state = load_file(str(a))
    g = torch.Generator().manual_seed(0)
    other = {k: (v + torch.randn(v.shape, generator=g) if v.is_floating_point() else v) for k, v in state.items()}
    from safetensors import safe_open

    with safe_open(str(a), framework="pt") as f:
        meta = f.metadata()
    b = tmp_path / "b.safetensors"
    save_file(other, str(b), metadata=meta)
    out = tmp_path / "soup.safetensors"
    soup_priors([a, b], out, [0.25, 0.75], dtype="float32")
    mixed = load_file(str(out))
    for k, v in state.items():
        if v.is_floating_point():
            torch.testing.assert_close(mixed[k], 0.25 * v + 0.75 * other[k], rtol=1e-6, atol=1e-6)
    info = read_prior_metadata(out)["training"]
    assert [i["weight"] for i in info["soup"]] == [0.25, 0.75] and info["soup"][0]["global_step"] == 10
    load_prior(out)  # a soup is an ordinary prior
    assert (
        main(["prior", "soup", str(a), str(b), "--output", str(tmp_path / "eq.safetensors"), "--dtype", "float32"]) == 0
    )
    torch.testing.assert_close(load_file(str(tmp_path / "eq.safetensors"))[k], 0.5 * state[k] + 0.5 * other[k])
    with pytest.raises(PriorError, match="one of the inputs"):
        soup_priors([a, b], a)
    with pytest.raises(PriorError, match="weights"):
        soup_priors([a, b], out, [0.5, 0.6])
    cfg = json.loads(meta["config"])
    cfg["network"]["channels"] = [8, 8, 8]
    save_file(state, str(tmp_path / "c.safetensors"), metadata={**meta, "config": json.dumps(cfg)})
    with pytest.raises(PriorError, match="another 'network'"):
        soup_priors([a, tmp_path / "c.safetensors"], out)
