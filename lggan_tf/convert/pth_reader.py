"""Read a PyTorch `.pth` state_dict into NumPy arrays without PyTorch (stdlib + NumPy only).

Both `torch.save` formats are read:
- zip (torch >= 1.6): `<prefix>/data.pkl` is the object pickle; storage n is the raw record `<prefix>/data/<n>`;
  `<prefix>/byteorder` says 'little' or 'big'.
- legacy (torch < 1.6): four pickles in a row (magic number, protocol 1001, sys info, the object), then the
  sorted list of storage keys, then each storage as an int64 element count followed by its raw elements.

Security: the pickles go through `_RestrictedUnpickler`, whose `find_class` resolves only the tensor rebuild
functions, the storage and dtype names and `collections.OrderedDict` to inert local stand-ins; any other global
(`os.system`, `builtins.eval`, a pickled `nn.Module` class ...) raises `CheckpointError` before it is called, so a
hostile file cannot run code. Tensors unpickle to `_Tensor` records (storage, offset, size, stride); storages are
read lazily and each tensor is copied out of its storage into its own C-contiguous array, so non-contiguous views,
offsets and storages shared between keys all come out as independent plain arrays.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import struct
import sys
import zipfile

import numpy as np

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001
WRAPPER_HINT = "save the weights alone with torch.save(model.state_dict(), path)"


class CheckpointError(ValueError):
    """A `.pth` file that cannot be read as a PyTorch state_dict; the message is one line naming the file."""


class _DType:
    """Stand-in for a torch dtype or a typed storage class: the NumPy element type (bfloat16: raw uint16 bits)."""

    def __init__(self, name: str, numpy_dtype: str, bfloat16: bool = False):
        self.name, self.numpy_dtype, self.bfloat16 = name, np.dtype(numpy_dtype), bfloat16

    def __repr__(self):
        return f"torch.{self.name}"

    def __setstate__(self, state):  # pickle BUILD on a shared stand-in would change how later files are read
        raise CheckpointError(f"the pickle tries to modify {self!r}")


_ELEMENTS = {  # torch dtype name -> (storage class name, NumPy type)
    "float32": ("FloatStorage", "<f4"), "float64": ("DoubleStorage", "<f8"), "float16": ("HalfStorage", "<f2"),
    "bfloat16": ("BFloat16Storage", "<u2"), "int64": ("LongStorage", "<i8"), "int32": ("IntStorage", "<i4"),
    "int16": ("ShortStorage", "<i2"), "int8": ("CharStorage", "i1"), "uint8": ("ByteStorage", "u1"),
    "bool": ("BoolStorage", "?"), "complex64": ("ComplexFloatStorage", "<c8"),
    "complex128": ("ComplexDoubleStorage", "<c16"), "uint16": (None, "<u2"), "uint32": (None, "<u4"),
    "uint64": (None, "<u8"),
}
_ALIASES = {"float": "float32", "double": "float64", "half": "float16", "long": "int64", "int": "int32",
            "short": "int16", "cfloat": "complex64", "cdouble": "complex128"}
_DTYPES = {name: _DType(name, npt, name == "bfloat16") for name, (_, npt) in _ELEMENTS.items()}
_DTYPES.update({alias: _DTYPES[name] for alias, name in _ALIASES.items()})
_STORAGE_TYPES = {cls: _DType(cls, npt, name == "bfloat16") for name, (cls, npt) in _ELEMENTS.items() if cls}
_UNTYPED = _DType("UntypedStorage", "u1")
_TYPE_MARKERS = {("torch", "Tensor"), ("torch.nn.parameter", "Parameter"), ("torch.nn", "Parameter")}


class _Storage:
    """One storage: `numel` elements of `dtype`; `reader()` returns its raw bytes (read on first use)."""

    def __init__(self, key, dtype: _DType, numel: int, reader=None, base=None, base_offset=0):
        self.key, self.dtype, self.numel = key, dtype, int(numel)
        self.reader, self.base, self.base_offset = reader, base, int(base_offset)
        self._array = None

    def __setstate__(self, state):
        raise CheckpointError(f"the pickle tries to modify storage '{self.key}'")

    def array(self, byteorder: str) -> np.ndarray:
        """The storage as a 1-D array of its raw element type in the file's byte order."""
        if self._array is None:
            if self.base is not None:
                self._array = self.base.array(byteorder)[self.base_offset:self.base_offset + self.numel]
            else:
                dtype = self.dtype.numpy_dtype.newbyteorder("<" if byteorder == "little" else ">")
                data = self.reader()
                if len(data) < self.numel * dtype.itemsize:
                    raise CheckpointError(f"storage '{self.key}' has {len(data)} bytes but needs "
                                          f"{self.numel * dtype.itemsize}; the file is truncated or corrupt")
                self._array = np.frombuffer(data, dtype=dtype, count=self.numel)
        return self._array


class _Tensor:
    """A tensor as pickled: a view (offset, size, stride, all in elements of `dtype`) into a `_Storage`."""

    __slots__ = ("storage", "offset", "size", "stride", "dtype")

    def __init__(self, storage, offset, size, stride, dtype=None):
        if not isinstance(storage, _Storage):
            raise CheckpointError(f"a tensor rebuild got {type(storage).__name__} instead of a storage")
        ints = [offset, *size, *stride]
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in ints) or len(size) != len(
                stride):
            raise CheckpointError(f"a tensor has a malformed offset/size/stride {offset}/{size}/{stride}")
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)
        self.dtype = dtype or storage.dtype
        if self.dtype is _UNTYPED:
            raise CheckpointError("a tensor is built on an untyped storage without a dtype")

    def __setstate__(self, state):
        raise CheckpointError("a tensor carries Python state (a tensor subclass?)")

    def to_numpy(self, name: str, byteorder: str) -> np.ndarray:
        raw = self.storage.array(byteorder)
        if self.storage.dtype is _UNTYPED:  # _rebuild_tensor_v3: reinterpret the bytes as the tensor's dtype
            dt = self.dtype.numpy_dtype.newbyteorder("<" if byteorder == "little" else ">")
            raw = raw[:raw.size // dt.itemsize * dt.itemsize].view(dt)
        needed = 0 if 0 in self.size else self.offset + 1 + sum((n - 1) * s for n, s in zip(self.size, self.stride))
        if needed > raw.size:
            raise CheckpointError(f"tensor '{name}' (offset {self.offset}, size {list(self.size)}, stride "
                                  f"{list(self.stride)}) needs {needed} storage elements but its storage has "
                                  f"{raw.size}; the file is corrupt")
        view = np.lib.stride_tricks.as_strided(raw[self.offset:] if needed else raw[:0], shape=self.size,
                                               strides=[s * raw.itemsize for s in self.stride], writeable=False)
        try:
            out = np.array(view, dtype=view.dtype.newbyteorder("="), order="C")
        except (MemoryError, ValueError) as err:  # e.g. a huge stride-0 expansion of one element
            raise CheckpointError(f"tensor '{name}' of size {list(self.size)} cannot be allocated ({err})") from None
        if self.dtype.bfloat16:  # bfloat16 is the top half of a float32: shift the bits, exact
            out = (out.astype(np.uint32) << 16).view(np.float32)
        return out


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _Tensor(storage, storage_offset, size, stride)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None):
    return _Tensor(storage, storage_offset, size, stride)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype, metadata=None):
    if not isinstance(dtype, _DType) or dtype.name in _STORAGE_TYPES:
        raise CheckpointError(f"_rebuild_tensor_v3 got {dtype!r} instead of a torch dtype")
    return _Tensor(storage, storage_offset, size, stride, dtype)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None, state=None):
    if not isinstance(data, _Tensor):
        raise CheckpointError(f"a Parameter wraps {type(data).__name__} instead of a tensor")
    return data


def _rebuild_from_type_v2(func, new_type, args, state):
    if func not in _REBUILDERS.values() or new_type not in _TYPE_MARKERS or state:
        raise CheckpointError("a tensor subclass or a tensor with Python state (only plain tensors are read)")
    return func(*args)


_REBUILDERS = {"_rebuild_tensor": _rebuild_tensor, "_rebuild_tensor_v2": _rebuild_tensor_v2,
               "_rebuild_tensor_v3": _rebuild_tensor_v3, "_rebuild_parameter": _rebuild_parameter,
               "_rebuild_parameter_with_state": _rebuild_parameter}


def _allowed_global(module: str, name: str):
    if (module, name) == ("collections", "OrderedDict"):
        return collections.OrderedDict
    if module == "torch._utils" and name in _REBUILDERS:
        return _REBUILDERS[name]
    if (module, name) == ("torch._tensor", "_rebuild_from_type_v2"):
        return _rebuild_from_type_v2
    if (module, name) in _TYPE_MARKERS:
        return (module, name)  # only ever compared against, never called
    if (module, name) == ("torch", "Size"):
        return tuple
    if module in ("torch", "torch.storage") and name == "UntypedStorage":
        return _UNTYPED
    if module == "torch" and name in _STORAGE_TYPES:
        return _STORAGE_TYPES[name]
    if module == "torch" and name in _DTYPES:
        return _DTYPES[name]
    return None


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the allow-listed globals and hands storage ids to `load_storage`."""

    def __init__(self, file, path, load_storage=None):
        super().__init__(file, encoding="utf-8")
        self.path, self.load_storage = path, load_storage

    def find_class(self, module, name):
        found = _allowed_global(module, name)
        if found is None:
            raise CheckpointError(
                f"{self.path}: refusing pickle global '{module}.{name}' (only tensor rebuilds, storages, dtypes and "
                f"OrderedDict are allowed, so nothing in the file can run code); this file is not a plain PyTorch "
                f"state_dict ({WRAPPER_HINT}, i.e. save model.state_dict() instead of the model or other objects)")
        return found

    def persistent_load(self, pid):
        if self.load_storage is None:
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        pid = tuple(p.decode("ascii") if isinstance(p, bytes) else p for p in pid)
        if pid and pid[0] == "module":
            raise CheckpointError(f"{self.path}: the file pickles a whole nn.Module; {WRAPPER_HINT}")
        if len(pid) < 5 or pid[0] != "storage" or not isinstance(pid[1], _DType):
            raise pickle.UnpicklingError(f"malformed storage id {pid!r}")
        return self.load_storage(*pid[1:])


def _unpickle(data_or_file, path, load_storage=None, corrupt="corrupt or truncated pickle"):
    stream = io.BytesIO(data_or_file) if isinstance(data_or_file, bytes) else data_or_file
    try:
        return _RestrictedUnpickler(stream, path, load_storage).load()
    except CheckpointError as err:
        raise err if str(err).startswith(str(path)) else CheckpointError(f"{path}: {err}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError, IndexError, AttributeError,
            struct.error, UnicodeDecodeError, OverflowError, RecursionError) as err:
        raise CheckpointError(f"{path}: {corrupt} ({type(err).__name__}: {err}); "
                              f"re-download or re-save the checkpoint") from None


def _read_zip(path, archive: zipfile.ZipFile):
    """(object, byteorder) from a torch >= 1.6 zip checkpoint; storages are read from the archive on demand."""
    names = archive.namelist()
    pickles = sorted((n for n in names if n == "data.pkl" or n.endswith("/data.pkl")), key=len)
    if not pickles:
        raise CheckpointError(f"{path}: zip archive without data.pkl, so not a torch.save checkpoint "
                              f"(entries: {_few(names)})")
    prefix = pickles[0][: -len("data.pkl")]

    def read(name):
        try:
            return archive.read(name)
        except KeyError:
            raise CheckpointError(f"{path}: record '{name}' is missing; the file is truncated or corrupt") from None
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as err:
            raise CheckpointError(f"{path}: cannot read '{name}' ({err}); the file is truncated or corrupt") from None

    byteorder = read(prefix + "byteorder").decode().strip() if prefix + "byteorder" in names else "little"
    storages = {}

    def load_storage(storage_type, key, location, numel, *unused):
        if key not in storages:  # an untyped storage counts bytes, with dtype uint8
            storages[key] = _Storage(key, storage_type, numel, reader=lambda: read(f"{prefix}data/{key}"))
        return storages[key]

    return _unpickle(read(pickles[0]), path, load_storage), byteorder


def _read_legacy(path, f):
    """(object, byteorder) from a torch < 1.6 checkpoint: header pickles, object, key list, raw storages."""
    not_torch = "not a PyTorch checkpoint (neither a zip archive nor a legacy torch.save file)"
    if _unpickle(f, path, corrupt=not_torch) != LEGACY_MAGIC:
        raise CheckpointError(f"{path}: not a PyTorch checkpoint (neither a zip archive nor the legacy magic "
                              f"number); expected a file written by torch.save")
    protocol = _unpickle(f, path)
    if protocol != LEGACY_PROTOCOL:
        raise CheckpointError(f"{path}: legacy torch.save protocol {protocol!r}, expected {LEGACY_PROTOCOL}")
    sys_info = _unpickle(f, path)
    byteorder = "little" if not isinstance(sys_info, dict) or sys_info.get("little_endian", True) else "big"
    storages = {}

    def load_storage(storage_type, key, location, numel, view_metadata=None, *unused):
        if key not in storages:
            storages[key] = _Storage(key, storage_type, numel)
        if view_metadata is None:
            return storages[key]
        view_key, offset, size = view_metadata
        if view_key not in storages:
            storages[view_key] = _Storage(view_key, storage_type, size, base=storages[key], base_offset=offset)
        return storages[view_key]

    obj = _unpickle(f, path, load_storage)
    keys = _unpickle(f, path)
    file_size = os.fstat(f.fileno()).st_size
    for key in keys if isinstance(keys, list) else []:
        storage = storages.get(key)
        header = f.read(8)
        if storage is None or storage.base is not None or len(header) < 8:
            raise CheckpointError(f"{path}: storage '{key}' is missing or malformed; the file is truncated or corrupt")
        count = struct.unpack("<q" if byteorder == "little" else ">q", header)[0]
        nbytes = count * storage.dtype.numpy_dtype.itemsize
        if count != storage.numel or f.tell() + nbytes > file_size:
            raise CheckpointError(f"{path}: storage '{key}' should hold {storage.numel} elements, the file has "
                                  f"{count} (and {file_size - f.tell()} bytes left); the file is truncated or corrupt")
        storage.reader = (lambda offset=f.tell(), n=nbytes: _read_at(f, offset, n))
        f.seek(nbytes, io.SEEK_CUR)
    unread = [k for k, s in storages.items() if s.base is None and s.reader is None]
    if unread:
        raise CheckpointError(f"{path}: storages {_few(unread)} are referenced but not stored; the file is corrupt")
    return obj, byteorder


def _read_at(f, offset, nbytes):
    f.seek(offset)
    return f.read(nbytes)


def _few(items, n=8):
    items = [repr(i) if isinstance(i, str) else str(i) for i in items]
    return ", ".join(items[:n]) + (f" (+{len(items) - n} more)" if len(items) > n else "") if items else "none"


def _is_tensor_dict(obj) -> bool:
    return isinstance(obj, dict) and bool(obj) and all(isinstance(k, str) and isinstance(v, _Tensor)
                                                       for k, v in obj.items())


def _select_state_dict(obj, path, key):
    """The dict of tensors in `obj`: obj itself, obj[key], or the only value of obj that is a dict of tensors."""
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path}: holds a {type(obj).__name__}, not a dict of tensors; {WRAPPER_HINT}")
    if key is not None:
        if key not in obj:
            raise CheckpointError(f"{path}: no top-level key {key!r}; the top-level keys are {_few(obj)}")
        if not _is_tensor_dict(obj[key]):
            raise CheckpointError(f"{path}: [{key!r}] is a {type(obj[key]).__name__} that is not a dict of "
                                  f"tensors; the top-level keys are {_few(obj)}")
        return obj[key]
    if _is_tensor_dict(obj):
        return obj
    candidates = [k for k, v in obj.items() if _is_tensor_dict(v)]
    if len(candidates) == 1:
        return obj[candidates[0]]
    if candidates:
        raise CheckpointError(f"{path}: several dicts of tensors at the top level ({_few(candidates)}); choose one "
                              f"with key=")
    others = [k for k, v in obj.items() if not isinstance(v, _Tensor)]
    raise CheckpointError(f"{path}: no dict of tensors at the top level or one level below (top-level keys: "
                          f"{_few(obj)}; not tensors: {_few(others)}); {WRAPPER_HINT}")


def load_state_dict(path, *, key=None) -> "collections.OrderedDict[str, np.ndarray]":
    """Read a `torch.save`d state_dict (zip or legacy format) as {key: C-contiguous NumPy array}.

    `key` selects a wrapped state_dict (`{'state_dict': ..., 'epoch': ...}`); without it a top-level dict whose
    values are not all tensors is unwrapped when exactly one of its values is a dict of tensors. A `module.`
    prefix (DataParallel) on every key is removed. bfloat16 becomes float32 (exact); every other dtype is kept.
    Raises CheckpointError (one line naming the file) for anything else.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise CheckpointError(f"{path}: does not exist; pass the path of a .pth/.pt checkpoint")
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: is not a file; pass the path of a .pth/.pt checkpoint")
    try:
        with open(path, "rb") as f:
            if f.read(2) != b"PK":
                f.seek(0)
                return _materialise(path, *_read_legacy(path, f), key)
        with zipfile.ZipFile(path) as archive:
            return _materialise(path, *_read_zip(path, archive), key)
    except (zipfile.BadZipFile, EOFError) as err:
        raise CheckpointError(f"{path}: truncated or corrupt zip archive ({err}); re-download the file") from None
    except OSError as err:
        raise CheckpointError(f"{path}: cannot be read ({err.strerror or err})") from None


def _materialise(path, obj, byteorder, key):
    """Select the state_dict in `obj`, drop a common `module.` prefix and copy every tensor out of its storage."""
    tensors = _select_state_dict(obj, path, key)
    prefix = "module." if all(k.startswith("module.") for k in tensors) else ""
    try:
        return collections.OrderedDict((k[len(prefix):], t.to_numpy(k, byteorder)) for k, t in tensors.items())
    except CheckpointError as err:
        raise CheckpointError(f"{path}: {err}") from None


def main(argv=None) -> int:
    """`python -m lggan_tf.convert.pth_reader FILE [--key K]`: one line per entry, then the counts."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("file")
    parser.add_argument("--key", default=None, help="top-level key of a wrapped state_dict")
    args = parser.parse_args(argv)
    try:
        state = load_state_dict(args.file, key=args.key)
    except CheckpointError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for name, value in state.items():
        print(f"{name}\t{list(value.shape)}\t{value.dtype}")
    total = sum(int(v.size) for v in state.values())
    floats = sum(int(v.size) for v in state.values() if v.dtype.kind in "fc")
    print(f"{len(state)} entries, {total:,} elements ({floats:,} floating point)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
