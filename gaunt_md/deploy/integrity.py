"""Is a model file the archive `gaunt-md export` wrote?  Every entry is read back, which
checks the zip CRC-32 of each (torch.jit.load does not), and hashed: SHA-256 over the names
and contents of all entries but the metadata (which holds the hash) and torch's per-save
random `.data/serialization_id`.  Export writes the hash into the metadata (`content_sha256`);
loading recomputes it.  Files exported before the hash existed are checked by their CRCs only.

This catches corruption (a bad copy or download, flipped bytes) and edits made without
re-exporting; it is not a signature: whoever can rewrite the file can rewrite the hash."""
from __future__ import annotations

import hashlib
import zipfile
import zlib
from collections import Counter

from .metadata import EXTRA_FILE

DIGEST_KEY = "content_sha256"
_NOT_HASHED = ("extra/" + EXTRA_FILE, ".data/serialization_id")


def _relative(name: str) -> str:
    """The entry name below the archive's top folder (torch names that folder after the file)."""
    return name.split("/", 1)[1] if "/" in name else name


def content_digest(source) -> str:
    """SHA-256 of a TorchScript archive (a path or a binary file object); reading raises
    zipfile.BadZipFile when an entry does not match its CRC."""
    with zipfile.ZipFile(source) as archive:
        infos = archive.infolist()
        duplicates = [n for n, c in Counter(i.filename for i in infos).items() if c > 1]
        if duplicates:
            raise zipfile.BadZipFile(f"duplicate archive entries {duplicates[:3]}")
        digest = hashlib.sha256()
        for info in sorted(infos, key=lambda i: _relative(i.filename)):
            name = _relative(info.filename)
            if name in _NOT_HASHED or info.is_dir():
                continue
            data = archive.read(info)
            digest.update(name.encode() + b"\0" + len(data).to_bytes(8, "little"))
            digest.update(data)
    return digest.hexdigest()


def verify_archive(path, meta: dict) -> None:
    """ValueError unless every entry of the archive at `path` matches its CRC and, when the
    metadata carries a content hash, the entries hash to it."""
    try:
        digest = content_digest(path)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as err:
        raise ValueError(f"{path} is corrupt: {err} (the archive's checksums do not match its contents); "
                         "export or copy the model again") from err
    expected = meta.get(DIGEST_KEY)
    if expected is not None and digest != expected:
        raise ValueError(
            f"{path} is corrupt or was changed after export: its content hash {digest[:16]}... differs from "
            f"the {expected[:16]}... that `gaunt-md export` wrote into it; export or copy the model again"
        )
