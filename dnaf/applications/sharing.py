"""Sharing a trained model on the Hugging Face Hub: the pipeline folder with its model card and
sample grid, uploaded from a staged copy (the user's folder is not changed), and a repository
downloaded back into a folder that is checked to load as a :class:`DNAFPipeline`. Pickle files
are neither uploaded nor downloaded; the Hub's failures become messages that say what to do."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

import PIL.Image
from huggingface_hub import HfApi, snapshot_download
from huggingface_hub.errors import (
    HfHubHTTPError,
    HFValidationError,
    LocalTokenNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from dnaf.core.errors import DataError, UsageError
from dnaf.core.version import __version__
from dnaf.io.atomic import atomic_folder, atomic_write
from dnaf.models.saving import MODEL_INDEX, NotAModelError, read_model_index
from dnaf.pipeline import PICKLE_PATTERNS, DNAFPipeline
from dnaf.reports.model_card import RUN_CONFIG, CardSources, read_metrics, read_run_config, write_model_card

logger = logging.getLogger(__name__)

GRID_FILE = "samples.png"
TRANSPORT_ERROR = HfHubHTTPError.__bases__[0]
"""The HTTP library's base error (httpx's from huggingface_hub 1.0, requests' before): a refused
connection or a timeout is raised as that, not as a HfHubHTTPError."""
HUB_ERRORS = (TRANSPORT_ERROR, OSError, ValueError)
"""What huggingface_hub raises for the network, the token, the repository or a local file."""


class HubError(DataError):
    """The Hub could not be reached, or refused the request; the message says what to do."""


def check_repo_id(repo_id: str) -> None:
    owner, _, name = repo_id.partition("/")
    if not owner or not name or "/" in name:
        raise UsageError(f"expected a repository id of the form USER/NAME, got {repo_id!r}")


def pickle_files(folder: Path) -> list[Path]:
    return sorted({path for pattern in PICKLE_PATTERNS for path in Path(folder).rglob(pattern)})


def check_pipeline_folder(folder: Path) -> dict:
    """The folder's ``model_index.json``, once every component it names has its subfolder and no
    file is a pickle; raises NotAModelError (or OldModelFormatError, naming the conversion)."""
    folder = Path(folder)
    index = read_model_index(folder)
    # a component is [library, class] ([null, null] when absent); plain values are numbers and lists of them
    components = [name for name, value in index.items() if isinstance(value, list) and isinstance(value[0], str)]
    missing = [name for name in components if not (folder / name).is_dir()]
    if missing:
        raise NotAModelError(f"{folder} is an incomplete DNAF model: {MODEL_INDEX} names {', '.join(missing)}, "
                             "which have no folder")  # fmt: skip
    pickles = pickle_files(folder)
    if pickles:
        raise DataError(
            f"{folder} holds pickle files ({', '.join(str(p.relative_to(folder)) for p in pickles)}), which run code "
            "when loaded; dnaf writes and reads safetensors only: remove them"
        )
    return index


def card_sources(
    model: Path, repo_id: str, metrics: Path | None, run_config: Path | None, dataset: str | None, grid: bool
) -> CardSources:
    """What the card of ``model`` is built from; ``run_config`` defaults to the training run's
    record beside the model folder, when there is one."""
    if run_config is None and (model.parent / RUN_CONFIG).is_file():
        run_config = model.parent / RUN_CONFIG
    if run_config is None:
        logger.warning("no %s beside %s: the card will not show the training settings", RUN_CONFIG, model)
    if metrics is None:
        logger.warning("no --metrics: the card will say that no evaluation results were given")
    return CardSources(
        repo_id=repo_id,
        metrics=read_metrics(metrics) if metrics else None,
        run_config=read_run_config(run_config) if run_config else None,
        dataset=dataset,
        grid=GRID_FILE if grid else None,
    )


def _link_or_copy(source: str, target: str) -> None:
    """Hard links keep a staged copy of a 4 GB model free; the card and picture written into it
    afterwards replace their links (atomic writes rename), so the user's folder is not touched."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def stage_model(model: Path, staged: Path, sources: CardSources, grid: Path | None) -> None:
    """``staged`` := the pipeline folder ``model`` + ``README.md`` (the card) + ``samples.png``."""
    check_pipeline_folder(model)
    shutil.copytree(model, staged, copy_function=_link_or_copy, dirs_exist_ok=True)
    if grid is not None:
        try:
            with PIL.Image.open(grid) as picture, atomic_write(staged / GRID_FILE, "wb") as handle:
                picture.save(handle, format="PNG")
        except (OSError, ValueError) as error:
            raise DataError(f"cannot read the sample grid {grid}: {error}") from None
    write_model_card(staged, sources)


def hub_failure(error: Exception, action: str, repo_id: str) -> HubError:
    """``error`` of huggingface_hub -> a HubError saying what to do about it."""
    status = getattr(getattr(error, "response", None), "status_code", None)
    if isinstance(error, OfflineModeIsEnabled):
        hint = "HF_HUB_OFFLINE is set: unset it, this needs the network"
    elif isinstance(error, HFValidationError):
        hint = f"{repo_id!r} is not a valid repository id"
    elif isinstance(error, RevisionNotFoundError):
        hint = f"{repo_id} has no such revision (a branch, tag or commit)"
    elif isinstance(error, RepositoryNotFoundError):
        hint = f"there is no repository {repo_id}, or it is private or gated and your token may not read it"
    elif isinstance(error, LocalTokenNotFoundError) or status == 401:
        hint = "log in with `hf auth login` (or set HF_TOKEN, or pass --token) with a valid token"
    elif status == 403:
        hint = f"your token may not write to {repo_id}: use one with write access to its owner's namespace"
    elif status is not None:
        hint = f"the Hub answered HTTP {status}; try again later"
    elif isinstance(error, (TRANSPORT_ERROR, ConnectionError, TimeoutError)):
        hint = "could not reach the Hugging Face Hub: check the network connection (and HF_ENDPOINT, if set)"
    else:
        hint = "a local file could not be read or written"
    first_line = str(error).splitlines()[0] if str(error) else ""
    return HubError(f"{action} {repo_id} failed ({type(error).__name__}: {first_line}). {hint}")


def push_model(
    model: Path, repo_id: str, sources: CardSources, grid: Path | None, private: bool, token: str | None
) -> str:
    """Upload the pipeline folder ``model``, with its card and sample grid, to ``repo_id``
    (created when missing); returns the commit's address."""
    check_repo_id(repo_id)
    with tempfile.TemporaryDirectory(dir=model.parent, prefix=f".{model.name}.hub-") as temporary:
        staged = Path(temporary) / model.name
        stage_model(model, staged, sources, grid)
        api = HfApi(token=token)
        try:
            api.create_repo(repo_id, private=private or None, exist_ok=True)
            commit = api.upload_folder(
                repo_id=repo_id, folder_path=staged, commit_message=f"Upload a DNAF model (dnaf {__version__})"
            )
        except HUB_ERRORS as error:
            raise hub_failure(error, "uploading to", repo_id) from None
    return str(getattr(commit, "commit_url", commit))


def download_model(repo_id: str, out: Path, revision: str | None, token: str | None) -> dict:
    """Download ``repo_id`` (safetensors, no pickle files) into the folder ``out``, check that it
    loads as a DNAFPipeline, and return its model index. ``out`` is written completely or not at
    all, and replaced only when it holds a model."""
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (out / MODEL_INDEX).is_file():
        raise UsageError(f"{out} exists and is not a model folder: choose another --out")
    with atomic_folder(out) as staging:
        try:
            snapshot_download(repo_id, revision=revision, token=token, local_dir=staging,
                              ignore_patterns=PICKLE_PATTERNS)  # fmt: skip
        except HUB_ERRORS as error:
            raise hub_failure(error, "downloading", repo_id) from None
        shutil.rmtree(staging / ".cache", ignore_errors=True)  # huggingface_hub's resume records
        try:
            index = check_pipeline_folder(staging)
        except DataError as error:  # it names the staging folder, which the user never sees
            raise NotAModelError(f"{repo_id} is not a DNAF model: {str(error).replace(str(staging), 'it')}") from None
        try:
            DNAFPipeline.from_pretrained(staging)
        except (OSError, ValueError, KeyError, RuntimeError) as error:  # diffusers raises any of these
            first_line = str(error).splitlines()[0] if str(error) else ""
            raise NotAModelError(f"{repo_id} does not load as a DNAFPipeline ({type(error).__name__}: "
                                 f"{first_line})") from None  # fmt: skip
    return index
