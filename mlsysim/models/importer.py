"""Hugging Face models by id (0.1.0's ``mlsysim.models.importer``): ``import_hf_model("org/name")``.

The config.json is found, in order: at ``model_id`` itself when that is a file or a folder holding one; in the
local Hugging Face cache (``HF_HUB_CACHE``, else ``HF_HOME``/hub, else ``~/.cache/huggingface/hub``), so a
model downloaded once loads offline; else from huggingface.co (``resolve/main/config.json``, with retries on
rate limits and network errors, certificate checks kept). The workload is then built by
:func:`mlsysim.models.hf_config.from_hf_config`, which counts the parameters from the shapes and checks the
config as a zoo entry is checked.
"""
from __future__ import annotations

import json
import logging
import os
import re
import time
from pathlib import Path

from ..errors import InputError
from .hf_config import from_hf_config, read_config

logger = logging.getLogger(__name__)

HF_URL = "https://huggingface.co/{model_id}/resolve/{revision}/config.json"
_MODEL_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def _cache_dirs() -> list[Path]:
    dirs = []
    if os.environ.get("HF_HUB_CACHE"):
        dirs.append(Path(os.environ["HF_HUB_CACHE"]))
    if os.environ.get("HF_HOME"):
        dirs.append(Path(os.environ["HF_HOME"]) / "hub")
    dirs.append(Path.home() / ".cache" / "huggingface" / "hub")
    return dirs


def cached_config(model_id: str, revision: str = "main") -> Path | None:
    """The config.json of ``model_id`` in the local Hugging Face cache (the snapshot ``revision`` names, else
    the newest one), or None."""
    for root in _cache_dirs():
        repo = root / f"models--{model_id.replace('/', '--')}"
        if not repo.is_dir():
            continue
        ref = repo / "refs" / revision
        if ref.is_file():
            path = repo / "snapshots" / ref.read_text(encoding="utf-8").strip() / "config.json"
            if path.is_file():
                return path
        found = sorted((repo / "snapshots").glob("*/config.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        if found:
            return found[0]
    return None


def fetch_hf_config(model_id: str, max_retries: int = 3, timeout: int = 10, revision: str = "main") -> dict:
    """The parsed config.json of ``model_id`` (a local file or folder, a cached download, or huggingface.co,
    tried ``max_retries`` times with ``timeout`` seconds each)."""
    if not isinstance(model_id, (str, os.PathLike)) or not str(model_id).strip():
        raise InputError(f"a Hugging Face model id is a string such as 'meta-llama/Llama-3.1-8B', got {model_id!r}")
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 1:
        raise InputError(f"max_retries must be a whole number >= 1, got {max_retries!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise InputError(f"timeout must be a positive number of seconds, got {timeout!r}")
    local = Path(model_id)
    if local.is_file() or (local.is_dir() and (local / "config.json").is_file()):
        return read_config(local / "config.json" if local.is_dir() else local)
    model_id = str(model_id)
    if not _MODEL_ID.match(model_id):
        raise InputError(f"{model_id!r} is neither a config.json file, a folder holding one, nor a Hugging Face "
                         f"model id such as 'meta-llama/Llama-3.1-8B'")
    cached = cached_config(model_id, revision)
    if cached is not None:
        logger.debug("config.json of %s from the local cache: %s", model_id, cached)
        return read_config(cached)
    return _download(model_id, revision, max_retries, timeout)


def _download(model_id: str, revision: str, max_retries: int, timeout: float) -> dict:
    import urllib.error
    import urllib.request

    from .. import __version__

    url = HF_URL.format(model_id=model_id, revision=revision)
    headers = {"User-Agent": f"mlsysim/{__version__}"}
    request = urllib.request.Request(url, headers=headers)
    last = "no attempt made"
    for attempt in range(max_retries):
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                data = response.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            if exc.code == 429 and attempt + 1 < max_retries:       # rate limited: back off and retry
                logger.warning("Hugging Face rate-limits %s (HTTP 429); retrying in %d s", model_id, 2 ** attempt)
                time.sleep(2 ** attempt)
                continue
            if exc.code in (401, 403, 404):
                raise InputError(f"Hugging Face has no public config.json for '{model_id}' (HTTP {exc.code}); "
                                 f"check the id, or download a gated model's config.json and pass its path") from None
            raise InputError(f"Hugging Face answered HTTP {exc.code} for '{model_id}'") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            last = str(getattr(exc, "reason", exc))
            if attempt + 1 < max_retries:
                logger.warning("fetching %s failed (attempt %d of %d: %s); retrying", model_id, attempt + 1,
                               max_retries, last)
                time.sleep(2 ** attempt)
            continue
        try:
            config = json.loads(data)
        except json.JSONDecodeError as exc:
            raise InputError(f"the config.json of '{model_id}' is not valid JSON ({exc})") from None
        if not isinstance(config, dict):
            raise InputError(f"the config.json of '{model_id}' is not a JSON object")
        return config
    raise InputError(f"could not fetch the config.json of '{model_id}' after {max_retries} attempt(s) ({last}); "
                     f"download it and pass its path")


def import_hf_model(model_id: str, name: str | None = None, *, parameters: float | None = None,
                    max_retries: int = 3, timeout: int = 10, revision: str = "main"):
    """The workload ``model_id``'s config.json describes (a ``TransformerWorkload`` for a decoder, an MoE's
    sparse transformer, a state-space model's SSM workload ...). ``name`` defaults to the id's last part;
    a stated ``parameters`` count is checked against the shapes (2%)."""
    config = fetch_hf_config(model_id, max_retries=max_retries, timeout=timeout, revision=revision)
    label = name or Path(str(model_id).rstrip("/")).name.removesuffix(".json") or "model"
    if label == "config":
        label = Path(str(model_id)).resolve().parent.name
    return from_hf_config(config, name=label, parameters=parameters)


__all__ = ["cached_config", "fetch_hf_config", "import_hf_model"]
