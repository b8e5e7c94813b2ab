"""tn.save / tn.load: (nested) state dicts as .npz files, never pickle.

Layout: every array of the (possibly nested) dict becomes one member of the npz, named by
its key path joined with "/" (so a model's state_dict reads naturally with numpy.load);
the structure -- dict keys and their types, lists, tuples, Python scalars, None, strings --
is a JSON manifest stored as the uint8 member "__tinynn__". Writing goes to a temporary
file in the same folder, then os.replace(), so a failed save never damages an existing file.
"""
import json
import os
import re
import tempfile
import zipfile
import zlib

import numpy as np

MANIFEST = "__tinynn__"
FORMAT = "tinynn.state"
VERSION = 1
SEP = "/"
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,100}(/[A-Za-z0-9_.\-]{1,100}){0,20}")


def _encode(obj, path, arrays, where):
    from ..tensor import Tensor

    if isinstance(obj, Tensor):
        from ..nn.parameter import Parameter

        name = _store(np.asarray(obj.detach().numpy()), path, arrays, where)
        if isinstance(obj, Parameter):  # as torch.save: a Parameter comes back a Parameter
            return {"parameter": [name, bool(obj.requires_grad)]}
        return {"tensor_requires_grad" if obj.requires_grad and obj.is_leaf else "tensor": name}
    if isinstance(obj, np.generic):
        return {"scalar": _store(np.asarray(obj), path, arrays, where)}
    if isinstance(obj, np.ndarray):
        return {"array": _store(obj, path, arrays, where)}
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if isinstance(k, bool) or not isinstance(k, (str, int)):
                raise TypeError(f"save: {where}: dict keys must be str or int, got {type(k).__name__} {k!r}")
            items.append([k if isinstance(k, str) else {"int": k}, _encode(v, path + [str(k)], arrays, where)])
        return {"dict": items}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_encode(v, path + [str(i)], arrays, where) for i, v in enumerate(obj)]}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"value": obj}
    raise TypeError(f"save: {where}: cannot store {type(obj).__name__} at {SEP.join(path) or '<root>'}; "
                    "only arrays, Tensors, numbers, strings, None, lists, tuples and dicts")


def _store(array, path, arrays, where):
    if array.dtype.hasobject or array.dtype.kind not in "biufc":
        raise TypeError(f"save: {where}: array at {SEP.join(path)} has dtype {array.dtype}; only numeric/bool arrays")
    name = SEP.join(path) or "value"
    if not _PLAIN_NAME.fullmatch(name) or name == MANIFEST or name in arrays:
        # Zip member names cannot carry every string a key may hold (NUL, odd unicode, clashes);
        # the manifest records the member's name, so any unique plain name will do.
        k = len(arrays)
        while f"#{k}" in arrays:
            k += 1
        name = f"#{k}"
    arrays[name] = array
    return name


def save(obj, path, compress=False):
    """Write `obj` -- Tensors, arrays, numbers, strings, bools, None, and dicts, lists and tuples of them,
    nested (a state_dict, an optimizer's state_dict(), a checkpoint) -- to the .npz file `path`,
    atomically (temporary file, then rename)."""
    where = os.fspath(path)
    arrays = {}
    root = _encode(obj, [], arrays, where)
    manifest = json.dumps({"format": FORMAT, "version": VERSION, "root": root})
    arrays[MANIFEST] = np.frombuffer(manifest.encode("utf-8"), dtype=np.uint8)
    folder = os.path.dirname(os.path.abspath(where))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(where) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            _write_npz(f, arrays, compress)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)  # mkstemp creates the file 0600; give it the mode open() would: 0666 minus umask
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, where)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _write_npz(f, arrays, compress):
    (np.savez_compressed if compress else np.savez)(f, **arrays)


def _decode(node, arrays, where):
    if not isinstance(node, dict) or len(node) != 1:
        raise ValueError(f"load: {where}: malformed manifest node {node!r}")
    (kind, body), = node.items()
    if kind == "parameter":
        from ..nn.parameter import Parameter

        if not (isinstance(body, list) and len(body) == 2):
            raise ValueError(f"load: {where}: malformed manifest node {node!r}")
        return Parameter(_decode({"tensor": body[0]}, arrays, where), requires_grad=bool(body[1]))
    if kind == "tensor_requires_grad":
        return _decode({"tensor": body}, arrays, where).requires_grad_()
    if kind in ("array", "scalar", "tensor"):
        if body not in arrays:
            raise ValueError(f"load: {where}: manifest refers to a missing array {body!r}")
        a = arrays[body]
        if kind == "tensor":
            from ..tensor import Tensor

            return Tensor._wrap(a, False)
        return a[()] if kind == "scalar" else a
    if kind == "dict":
        out = {}
        for key, value in body:
            if isinstance(key, dict):
                key = int(key["int"])
            out[key] = _decode(value, arrays, where)
        return out
    if kind == "list":
        return [_decode(v, arrays, where) for v in body]
    if kind == "tuple":
        return tuple(_decode(v, arrays, where) for v in body)
    if kind == "value":
        return body
    raise ValueError(f"load: {where}: unknown manifest node kind {kind!r}")


def load(path, map_location=None, weights_only=True):
    """Read a file written by tn.save and return what was saved (Tensors as Tensors, arrays as ndarrays;
    as torch.load, a Parameter comes back a Parameter and a leaf that required grad requires it again).
    Pickled data is never loaded; a truncated, corrupt or non-tinynn file raises ValueError naming it.

    map_location: None or "cpu" (or a device whose type is "cpu"): tinynn has no other device.
    weights_only: only True (PyTorch's default): a tinynn file holds nothing but data, never objects."""
    where = os.fspath(path)
    if weights_only is False:
        raise ValueError(f"load: {where}: weights_only=False asks to unpickle arbitrary objects; tinynn never "
                         "unpickles (its files hold only tensors, numbers, strings and containers): "
                         "use weights_only=True")
    if map_location is not None:
        device = map_location if isinstance(map_location, str) else getattr(map_location, "type", None)
        if not isinstance(device, str):
            raise TypeError(f"load: {where}: map_location must be None, 'cpu' or a CPU device, got {map_location!r}")
        if device.split(":")[0] != "cpu":
            raise RuntimeError(f"load: {where}: map_location {str(map_location)!r} is not available; tinynn runs "
                               "on the CPU only (use None or 'cpu')")
    if not os.path.exists(where):
        raise FileNotFoundError(f"load: no such file: {where}")
    with open(where, "rb") as f:
        magic = f.read(4)
    if magic != b"PK\x03\x04":
        raise ValueError(f"load: {where} is not a tinynn file (not an .npz archive; starts with {magic!r})")
    try:
        with np.load(where, allow_pickle=False) as f:
            if MANIFEST not in f.files:
                raise ValueError(f"no {MANIFEST!r} manifest (an .npz not written by tn.save)")
            arrays = {name: f[name] for name in f.files}
    except ValueError as exc:
        raise ValueError(f"load: {where} is not a valid tinynn file: {exc}") from None
    except (OSError, EOFError, KeyError, zipfile.BadZipFile, zlib.error, NotImplementedError) as exc:
        raise ValueError(f"load: {where} is corrupt or truncated: {type(exc).__name__}: {exc}") from None
    try:
        manifest = json.loads(arrays.pop(MANIFEST).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"load: {where}: unreadable manifest: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ValueError(f"load: {where} is not a tinynn file (manifest format {manifest.get('format') if isinstance(manifest, dict) else None!r})")
    if manifest.get("version", 0) > VERSION:
        raise ValueError(f"load: {where} was written by a newer tinynn (format version {manifest['version']})")
    return _decode(manifest["root"], arrays, where)
