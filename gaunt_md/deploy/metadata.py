"""Metadata stored next to an exported TorchScript model (its `_extra_files`), readable
without loading the model."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

EXTRA_FILE = "gaunt_md.json"
FORMAT = "gaunt-md-model"
# 2: forward(inputs: ModelInputs, compute_forces=, compute_stress=, training=) and
#    forward_local(inputs: ModelInputs, num_local, compute_virial=) (gaunt_md/data/inputs.py);
# 1: forward(positions, species, edge_index, shifts, batch, cell, num_graphs, flags...) and
#    forward_local(positions, species, edge_index, num_local, compute_virial).
FORMAT_VERSION = 2


def read_metadata(path) -> dict:
    """The metadata dict of an exported model, with clear errors for anything else."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"model file not found: {path}")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a gaunt-md model (not a TorchScript archive)")
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.endswith("/extra/" + EXTRA_FILE)]
        if not names:
            raise ValueError(
                f"{path} is not a gaunt-md model (no {EXTRA_FILE} metadata); "
                "export checkpoints with `gaunt-md export`"
            )
        try:
            meta = json.loads(archive.read(names[0]))
        except (ValueError, zipfile.BadZipFile) as err:
            raise ValueError(f"{path}: corrupt gaunt-md metadata ({err})") from err
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path} is not a gaunt-md model (format {meta.get('format')!r})")
    if int(meta.get("format_version", 0)) > FORMAT_VERSION:
        raise ValueError(
            f"{path} has model format version {meta['format_version']}, newer than this gaunt-md "
            f"reads ({FORMAT_VERSION}); upgrade gaunt-md"
        )
    if int(meta.get("format_version", 0)) < FORMAT_VERSION:
        raise ValueError(
            f"{path} has model format version {meta.get('format_version', 0)}, older than this gaunt-md "
            f"reads ({FORMAT_VERSION}: models are called with ModelInputs); re-export it from its training "
            f"checkpoint with `gaunt-md export CHECKPOINT -o {path.name}`"
        )
    return meta


def dumps(meta: dict) -> str:
    return json.dumps(meta, indent=2, sort_keys=True)
