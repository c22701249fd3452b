"""Write `torch.save` files from the standard library, for tests that must run without PyTorch.

The object pickle is assembled opcode by opcode (protocol 2, as torch.save writes it): tensors are
`GLOBAL torch._utils _rebuild_tensor_v2` applied to (persistent storage id, offset, size, stride, False,
OrderedDict()), and storage ids are `('storage', GLOBAL torch.<Type>Storage, key, 'cpu', numel)` (plus the view
metadata `None` in the legacy format). `Call` emits any global applied to arguments, for hostile files.
"""

from __future__ import annotations

import collections
import pickle
import struct
import zipfile

import numpy as np

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
STORAGE_TYPES = {np.dtype("<f4"): "FloatStorage", np.dtype("<f8"): "DoubleStorage", np.dtype("<f2"): "HalfStorage",
                 np.dtype("<i8"): "LongStorage", np.dtype("<i4"): "IntStorage", np.dtype("bool"): "BoolStorage",
                 np.dtype("uint8"): "ByteStorage"}


class Tensor:
    """A tensor view (offset, size, stride in elements) into storage `key` of type `storage_type`."""

    def __init__(self, key, storage_type, offset, size, stride):
        self.key, self.storage_type = key, storage_type
        self.offset, self.size, self.stride = offset, tuple(size), tuple(stride)


class Call:
    """`module.name(*args)` as GLOBAL + tuple + REDUCE."""

    def __init__(self, module, name, *args):
        self.module, self.name, self.args = module, name, args


def _global(module, name):
    return b"c" + f"{module}\n{name}\n".encode()


def _emit(obj, numels, legacy) -> bytes:
    def tup(items):
        return b"(" + b"".join(_emit(i, numels, legacy) for i in items) + b"t"

    if isinstance(obj, bytes):  # raw opcodes
        return obj
    if obj is None:
        return b"N"
    if isinstance(obj, bool):
        return b"\x88" if obj else b"\x89"
    if isinstance(obj, int):
        return b"K" + bytes([obj]) if 0 <= obj < 256 else b"J" + struct.pack("<i", obj)
    if isinstance(obj, float):
        return b"G" + struct.pack(">d", obj)
    if isinstance(obj, str):
        data = obj.encode()
        return b"X" + struct.pack("<I", len(data)) + data
    if isinstance(obj, tuple):
        return tup(obj)
    if isinstance(obj, list):
        return b"](" + b"".join(_emit(i, numels, legacy) for i in obj) + b"e"
    if isinstance(obj, dict):
        head = _global("collections", "OrderedDict") + b")R" if isinstance(obj, collections.OrderedDict) else b"}"
        return head + b"(" + b"".join(_emit(k, numels, legacy) + _emit(v, numels, legacy)
                                      for k, v in obj.items()) + b"u"
    if isinstance(obj, Call):
        return _global(obj.module, obj.name) + tup(obj.args) + b"R"
    if isinstance(obj, Tensor):
        pid = (b"(" + _emit("storage", numels, legacy) + _global("torch", obj.storage_type) +
               _emit(obj.key, numels, legacy) + _emit("cpu", numels, legacy) + _emit(numels[obj.key], numels, legacy)
               + (b"N" if legacy else b"") + b"tQ")
        return (_global("torch._utils", "_rebuild_tensor_v2") + b"(" + pid + _emit(obj.offset, numels, legacy) +
                tup(obj.size) + tup(obj.stride) + b"\x89" + _global("collections", "OrderedDict") + b")R" + b"tR")
    raise TypeError(f"cannot emit {type(obj).__name__}")


def referenced(obj) -> set:
    """Keys of the storages that the tensors in `obj` use (torch.save writes only those)."""
    if isinstance(obj, Tensor):
        return {obj.key}
    items = obj.values() if isinstance(obj, dict) else obj.args if isinstance(obj, Call) else obj
    return set().union(*map(referenced, items)) if isinstance(obj, (dict, list, tuple, Call)) else set()


def dumps(obj, storages=None, legacy=False) -> bytes:
    """The protocol-2 object pickle of `obj` (Tensor/Call leaves); `storages` maps key -> 1-D array."""
    numels = {k: int(v.size) for k, v in (storages or {}).items()}
    return b"\x80\x02" + _emit(obj, numels, legacy) + b"."


def write_zip(path, obj, storages, prefix="archive", byteorder="little"):
    """A torch >= 1.6 zip checkpoint: <prefix>/data.pkl, <prefix>/data/<key>, <prefix>/byteorder."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{prefix}/data.pkl", dumps(obj, storages))
        archive.writestr(f"{prefix}/byteorder", byteorder)
        for key in sorted(referenced(obj)):
            array = storages[key]
            order = "<" if byteorder == "little" else ">"
            archive.writestr(f"{prefix}/data/{key}", np.ascontiguousarray(array, array.dtype.newbyteorder(order))
                             .tobytes())
        archive.writestr(f"{prefix}/version", "3\n")


def write_legacy(path, obj, storages):
    """A torch < 1.6 checkpoint: magic, protocol, sys info, object, sorted keys, then count + raw bytes each."""
    storages = {k: storages[k] for k in referenced(obj)}
    sys_info = {"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}
    parts = [pickle.dumps(LEGACY_MAGIC, 2), pickle.dumps(1001, 2), pickle.dumps(sys_info, 2),
             dumps(obj, storages, legacy=True),
             pickle.dumps(sorted(storages), 2)]
    for key in sorted(storages):
        parts += [struct.pack("<q", storages[key].size), np.ascontiguousarray(storages[key]).tobytes()]
    with open(path, "wb") as f:
        f.write(b"".join(parts))


def write(path, obj, storages, fmt, **kwargs):
    """write_zip or write_legacy by `fmt` ('zip' / 'legacy')."""
    (write_zip if fmt == "zip" else write_legacy)(path, obj, storages, **kwargs)
