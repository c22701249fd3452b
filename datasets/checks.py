"""Bad-input checks run before training: every problem named with its file and the fix.

`validate(spec, data_dir, split)` discovers the pairs (missing/empty folders and unpaired files fail there), then
reads a sample of examples (all of them with `check_all=True`) and checks: decodable and complete files, channel
count and bit depth, label values < label_nc after the dataset's remap, and image/label/instance sizes.
Uses PIL only (no TF), so it is cheap to call from the trainer and the CLI.
"""

from __future__ import annotations

import warnings

import numpy as np

from datasets.base import PROCEDURAL, DatasetSpec, Example, discover, load_layout, tfrecord_shards
from datasets.errors import DatasetError

DEFAULT_SAMPLE = 16
MAX_IN_MESSAGE = 10
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_COLOUR = {0: "grayscale", 2: "RGB", 3: "palette", 4: "grayscale+alpha", 6: "RGBA"}


def png_header(path: str) -> tuple[int, int] | None:
    """(bit depth, colour type) from a PNG's IHDR, or None for other formats."""
    with open(path, "rb") as fh:
        head = fh.read(26)
    if len(head) < 26 or not head.startswith(PNG_SIGNATURE):
        return None
    return head[24], head[25]


def remap_np(raw: np.ndarray, spec: DatasetSpec) -> np.ndarray:
    """NumPy twin of transforms.remap_label (without the range check)."""
    raw = raw.astype(np.int64)
    label = raw + spec.label_shift
    if spec.contain_dontcare:
        dontcare = label < 0
        if spec.ignore_value is not None:
            dontcare |= raw == spec.ignore_value
        label = np.where(dontcare, spec.label_nc, label)
    return label


def _open(path: str, role: str, problems: list[str]):
    """Fully decoded PIL image, or None after recording why it cannot be read."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im = Image.open(path)
            im.load()
        return im
    except Exception as err:  # PIL raises OSError, SyntaxError, ValueError... for broken files
        problems.append(f"{path}: corrupt or truncated {role} ({type(err).__name__}: {err}); re-download or "
                        f"re-export the file, or remove the pair")
        return None


def _check_label_format(path, im, spec, problems) -> bool:
    header = png_header(path)
    if header is not None:
        depth, colour = header
        if colour == 3 and not spec.palette_labels:
            problems.append(f"{path}: label map is a palette PNG; TF decodes palette colours, not indices. Re-save "
                            f"the indices as 8-bit grayscale: Image.fromarray(np.array(Image.open(f))).save(f)")
            return False
        if colour in (2, 4, 6):
            problems.append(f"{path}: label map has {_PNG_COLOUR[colour]} channels, expected one channel of class "
                            f"indices (8-bit grayscale); convert colour-coded maps to indices 0..{spec.label_nc - 1}")
            return False
        if colour == 0 and depth != 8:
            problems.append(f"{path}: label map has bit depth {depth}, expected 8-bit; re-save it as 8-bit "
                            f"grayscale indices (mode 'L')")
            return False
        return True
    if im.mode not in ("L", "P") or (im.mode == "P" and not spec.palette_labels):
        problems.append(f"{path}: label map mode {im.mode!r}, expected 8-bit single-channel class indices "
                        f"(mode 'L'); convert it")
        return False
    return True


def _check_image_format(path, im, problems):
    header = png_header(path)
    if header is not None and header[0] == 16:
        problems.append(f"{path}: image has bit depth 16, expected 8-bit RGB; convert it (e.g. PIL .convert('RGB'))")
    elif im.mode not in ("RGB", "L"):
        channels = len(im.getbands())
        problems.append(f"{path}: image has {channels} channel(s) (mode {im.mode!r}), expected 3 (RGB) or "
                        f"grayscale; convert it with PIL .convert('RGB')")


def check_example(spec: DatasetSpec, ex: Example) -> tuple[list[str], np.ndarray | None]:
    """Problems of one example and its remapped label values present (None when the label is unreadable)."""
    if spec.task == "cross_view":  # one six-panel file per example
        from datasets.cross_view import check_example as check_panels

        return check_panels(spec, ex)
    problems: list[str] = []
    image = _open(ex.image, "image", problems)
    if image is not None:
        _check_image_format(ex.image, image, problems)
    if ex.label_parts:
        from datasets.celebamask_hq import combine_part_masks

        parts = [p for p in ex.label_parts if p]
        opened = [_open(p, "part mask", problems) for p in parts]
        if any(o is None for o in opened):
            return problems, None
        try:
            raw = combine_part_masks(ex.label_parts)
        except DatasetError as err:
            return problems + [str(err)], None
        label_path, label_size = parts[0], (raw.shape[1], raw.shape[0])
    else:
        label_im = _open(ex.label, "label map", problems)
        if label_im is None or not _check_label_format(ex.label, label_im, spec, problems):
            return problems, None
        raw, label_path, label_size = np.asarray(label_im), ex.label, label_im.size
    values = np.unique(remap_np(raw, spec))
    bad = values[(values >= spec.onehot_nc) | (values < 0)]
    if bad.size:
        hint = (" (255 = unlabeled: this dataset has no dontcare class; set contain_dontcare=True, "
                "ignore_value=255)" if 255 in np.unique(raw) and not spec.contain_dontcare else "")
        problems.append(f"{label_path}: label value(s) {bad[:8].tolist()} >= label_nc={spec.label_nc}{hint}; pass "
                        f"--label_nc {int(bad.max()) + 1} or remap the labels to 0..{spec.label_nc - 1}")
    if image is not None:
        iw, ih = image.size
        lw, lh = label_size
        same = (iw, ih) == (lw, lh) if spec.image_label_same_size else iw * lh == lw * ih
        if not same:
            problems.append(f"{ex.image}: image is {iw}x{ih} but its label {label_path} is {lw}x{lh}; they must "
                            f"{'match' if spec.image_label_same_size else 'have the same aspect ratio'} (wrong pair, "
                            f"or resize the label with NEAREST)")
    if spec.use_instance and ex.instance:
        inst = _open(ex.instance, "instance map", problems)
        if inst is not None:
            if inst.mode not in ("L", "I", "I;16", "I;16B", "I;16L"):
                problems.append(f"{ex.instance}: instance map mode {inst.mode!r}, expected one channel of 8- or "
                                f"16-bit ids; convert it")
            elif inst.size != tuple(label_size):
                problems.append(f"{ex.instance}: instance map is {inst.size[0]}x{inst.size[1]} but its label is "
                                f"{label_size[0]}x{label_size[1]}; they must match")
    return problems, values


def sample_indices(n: int, k: int) -> list[int]:
    """k evenly spaced indices of n (all when k >= n)."""
    if k >= n:
        return list(range(n))
    return sorted({int(round(i)) for i in np.linspace(0, n - 1, k)})


def find_problems(spec: DatasetSpec, data_dir: str, split: str, check_all: bool = False,
                  sample: int = DEFAULT_SAMPLE, examples: list[Example] | None = None):
    """(examples, problems, label values seen, number checked). Discovery errors raise DatasetError."""
    if examples is None:
        examples = discover(spec, data_dir, split)
    indices = range(len(examples)) if check_all else sample_indices(len(examples), sample)
    problems: list[str] = []
    seen: set[int] = set()
    for i in indices:
        found, values = check_example(spec, examples[i])
        problems += found
        if values is not None:
            seen.update(int(v) for v in values)
    return examples, problems, seen, len(indices)


def format_problems(problems: list[str]) -> str:
    """One line: the first MAX_IN_MESSAGE problems joined by ' | '."""
    more = f" | ... and {len(problems) - MAX_IN_MESSAGE} more (run --check for all)" \
        if len(problems) > MAX_IN_MESSAGE else ""
    return f"{len(problems)} problem(s): " + " | ".join(problems[:MAX_IN_MESSAGE]) + more


def validate(spec: DatasetSpec, data_dir: str | None, split: str, check_all: bool = False,
             sample: int = DEFAULT_SAMPLE) -> list[Example]:
    """Check the dataset before training; returns its examples or raises DatasetError naming files and fixes.

    By default all pairs are matched but only `sample` evenly spaced examples are read; `check_all` reads all.
    Generated datasets and TFRecord folders (checked when they were written) pass through.
    """
    load_layout(spec.layout_name)
    if spec.layout_name in PROCEDURAL or tfrecord_shards(data_dir, split):
        return []
    examples, problems, _, _ = find_problems(spec, data_dir, split, check_all, sample)
    if problems:
        raise DatasetError(format_problems(problems))
    return examples
