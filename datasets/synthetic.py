"""Built-in procedural street-scene dataset: no download, pure NumPy, deterministic.

`render_scene(seed, split, index, height, width)` draws a Cityscapes-like street view: sky (vertical gradient +
clouds), buildings with window grids along a horizon, low walls, a perspective road (lane marks) with sidewalks
(curb, paving joints), grass verges with fences / hedges, trees, then small objects painted far to near (poles with
traffic signs / lights, cars on the road, persons on the sidewalk). The layout is drawn in normalised coordinates
from a generator seeded by (seed, split, index) only, so one scene renders identically at any size; the pixel noise
generator also hashes (height, width). Every class has its own colour / texture statistics, so the photo is a
learnable function of the label map plus noise. Instance ids follow Cityscapes: stuff pixels hold their class id,
thing pixels (person, car) hold class * 1000 + k.
"""

from __future__ import annotations

import functools
import hashlib

import numpy as np

CLASS_NAMES = ("road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign",
               "vegetation", "terrain", "sky", "person", "car")  # Cityscapes train-id order, subset
LABEL_NC = len(CLASS_NAMES)
(ROAD, SIDEWALK, BUILDING, WALL, FENCE, POLE, LIGHT, SIGN, VEGETATION, TERRAIN, SKY, PERSON, CAR) = range(LABEL_NC)
PALETTE = np.array([(128, 64, 128), (244, 35, 232), (70, 70, 70), (102, 102, 156), (190, 153, 153),
                    (153, 153, 153), (250, 170, 30), (220, 220, 0), (107, 142, 35), (152, 251, 152),
                    (70, 130, 180), (220, 20, 60), (0, 0, 142)], np.uint8)  # Cityscapes colours
PALETTE.flags.writeable = False
LARGE_CLASSES = ("road", "sidewalk", "building", "vegetation", "terrain", "sky")
SMALL_CLASSES = ("wall", "fence", "pole", "traffic light", "traffic sign", "person", "car")
THING_CLASSES = ("person", "car")
DEFAULT_SPLIT_SIZES = {"train": 2000, "val": 100}
MIN_SIZE = 32

# Per-class photo noise: one i.i.d. pixel field and one smooth (cloud / blotch) field, scaled per class and channel.
_PIXEL_AMP = np.zeros((LABEL_NC, 3), np.float32)
_SMOOTH_AMP = np.zeros((LABEL_NC, 3), np.float32)
for _c, _pix, _smooth in ((ROAD, 7, (6, 6, 6)), (SIDEWALK, 6, (6, 6, 5)), (BUILDING, 4, (8, 7, 6)),
                          (WALL, 4, (5, 5, 5)), (FENCE, 5, (4, 3, 2)), (POLE, 3, (3, 3, 3)), (LIGHT, 3, (2, 2, 2)),
                          (SIGN, 3, (3, 3, 2)), (VEGETATION, 14, (8, 16, 6)), (TERRAIN, 9, (10, 12, 6)),
                          (SKY, 2, (14, 12, 7)), (PERSON, 4, (3, 3, 3)), (CAR, 3, (3, 3, 3))):
    _PIXEL_AMP[_c], _SMOOTH_AMP[_c] = _pix, _smooth
_PIXEL_AMP[VEGETATION] = (10, 15, 8)

_FACADES = np.array([(150, 120, 100), (130, 118, 108), (165, 145, 115), (120, 100, 90), (140, 135, 128)], np.float32)
_CAR_BODIES = np.array([(30, 55, 150), (215, 215, 222), (160, 165, 175), (90, 140, 200), (20, 100, 140),
                        (170, 25, 25)], np.float32)  # mostly cool colours: keeps the class mean apart
_TOPS = np.array([(200, 40, 40), (225, 180, 50), (230, 120, 40), (230, 225, 215), (190, 60, 120)], np.float32)
_TROUSERS = np.array([(40, 45, 75), (30, 30, 35), (95, 85, 70), (60, 70, 115)], np.float32)
_LAMPS = np.array([(240, 40, 30), (250, 190, 40), (60, 230, 90)], np.float32)
_SKIN = np.array((215, 175, 145), np.float32)
_GAP, _HOUSE, _LOWWALL = 0, 1, 2


def _stable_rng(*parts) -> np.random.Generator:
    """Generator seeded from a BLAKE2 hash of `parts` (Python's hash() is salted per process)."""
    digest = hashlib.blake2b("|".join(map(str, ("lggan-synthetic",) + parts)).encode(), digest_size=16).digest()
    return np.random.default_rng(int.from_bytes(digest, "little"))


@functools.lru_cache(maxsize=32)
def _lerp_table(n_out: int, n_in: int):
    """Indices i0 [n_out] and weights w [n_out] of bilinear (align_corners=False) upsampling from n_in samples."""
    pos = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
    i0 = np.minimum(pos.astype(int), n_in - 2)
    return i0, (pos - i0).astype(np.float32)


def _upsample(grid: np.ndarray, height: int, width: int) -> np.ndarray:
    """Separable bilinear resize of a small float32 [h, w] grid to [height, width] (no BLAS: threads contend)."""
    i, a = _lerp_table(height, grid.shape[0])
    rows = grid[i] * (1 - a)[:, None] + grid[i + 1] * a[:, None]
    j, b = _lerp_table(width, grid.shape[1])
    return rows[:, j] * (1 - b) + rows[:, j + 1] * b


def _frac(x):
    """x mod 1 (faster than np.fmod-based %)."""
    return x - np.floor(x)


def _check_args(split, height, width):
    """ValueError naming the argument when split is unknown or a side is not an integer >= MIN_SIZE."""
    if split not in DEFAULT_SPLIT_SIZES:
        raise ValueError(f"synthetic dataset: split must be one of {tuple(DEFAULT_SPLIT_SIZES)}, got {split!r}")
    for name, n in (("height", height), ("width", width)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < MIN_SIZE:
            raise ValueError(f"synthetic dataset: {name} must be an integer >= {MIN_SIZE}, got {n!r}; "
                             f"render at a larger size and resize if you need smaller images")


def _sample_layout(rng: np.random.Generator) -> dict:
    """Every random choice of a scene, in normalised coordinates (u right, v down, both in [0, 1])."""
    v_h, u_vp = rng.uniform(0.38, 0.5), rng.uniform(0.38, 0.62)
    c_r = rng.uniform(0.75, 1.1)  # road half-width / depth-below-horizon ratio
    lay = dict(v_h=v_h, u_vp=u_vp, c_r=c_r, c_s=c_r * rng.uniform(1.3, 1.7, 2), gain=rng.uniform(0.85, 1.15),
               tint=rng.uniform(0.95, 1.05, 3), smooth=rng.standard_normal((12, 24)).astype(np.float32),
               lane_r=rng.uniform(-0.15, 0.15) * c_r, dash_phase=rng.uniform(), edge_lines=rng.random() < 0.6)
    segs, u = [], -rng.uniform(0.0, 0.1)
    while u < 1.0:  # skyline: buildings / low walls / gaps, taller towards the image sides (closer)
        w = rng.uniform(0.07, 0.25)
        kind = rng.choice(3, p=[0.18, 0.72, 0.10])
        h = {_GAP: 0.0, _HOUSE: rng.uniform(0.08, 0.34), _LOWWALL: rng.uniform(0.03, 0.07)}[kind]
        h *= 1 + 0.8 * abs(u + w / 2 - u_vp)
        segs.append((u, kind, max(v_h - h, 0.0), *_FACADES[rng.integers(len(_FACADES))] * rng.uniform(0.85, 1.15),
                     rng.uniform(0.025, 0.05), rng.uniform(0.018, 0.04), rng.uniform(0.8, 1.2)))
        u += w
    if not any(s[1] == _LOWWALL for s in segs) and rng.random() < 0.75:
        i = rng.integers(len(segs))
        segs[i] = segs[i][:1] + (_LOWWALL, v_h - rng.uniform(0.03, 0.07)) + segs[i][3:]
    lay["skyline"] = np.array(segs, np.float32)
    # Verges beyond each sidewalk: (kind 0 none / 1 fence / 2 hedge, near depth, far depth).
    lay["verges"] = []
    for _ in range(2):
        vkind, near = rng.choice(3, p=[0.1, 0.5, 0.4]), rng.uniform(0.01, 0.08)
        lay["verges"].append((vkind, near, near + rng.uniform(0.04, 0.15)))
    objs = []
    for _ in range(rng.integers(3, 9)):  # trees on the verges, far away
        side = rng.choice((-1, 1))
        u = u_vp + side * rng.uniform(0.03, 1.0) * (u_vp if side < 0 else 1 - u_vp)
        dv_max = abs(u - u_vp) / lay["c_s"][int(side > 0)]
        if dv_max > 0.012:
            objs.append(dict(kind="tree", dv=rng.uniform(0.01, min(0.15, 0.95 * dv_max)), u=u, s=rng.uniform(0.8, 1.5),
                             green=rng.uniform(0.8, 1.2, 3), phase=rng.uniform(0, 6.3, 2)))

    def on_sidewalk(dv, lo, hi):
        side = rng.choice((-1, 1))
        c = rng.uniform(c_r + lo * (lay["c_s"][int(side > 0)] - c_r), c_r + hi * (lay["c_s"][int(side > 0)] - c_r))
        dv = min(dv, 0.98 * (u_vp if side < 0 else 1 - u_vp) / c)
        return dv, u_vp + side * c * dv

    for _ in range(rng.choice(5, p=[0.0, 0.3, 0.35, 0.25, 0.1])):  # poles with signs / traffic lights
        dv, u = on_sidewalk(0.03 + 0.3 * rng.random() ** 1.3, 0.08, 0.35)
        objs.append(dict(kind="pole", dv=dv, u=u, s=rng.uniform(0.85, 1.15), sign=rng.random() < 0.6,
                         light=rng.random() < 0.5, sign_shape=rng.integers(3), lamp=rng.integers(3)))
    for _ in range(rng.choice(5, p=[0.08, 0.3, 0.3, 0.2, 0.12])):  # cars on the road
        dv = 0.03 + 0.4 * rng.random() ** 1.5
        objs.append(dict(kind="car", dv=dv, u=u_vp + rng.uniform(-0.75, 0.75) * c_r * dv, s=rng.uniform(0.9, 1.15),
                         body=_CAR_BODIES[rng.integers(len(_CAR_BODIES))] * rng.uniform(0.9, 1.1)))
    for _ in range(rng.choice(6, p=[0.08, 0.25, 0.25, 0.2, 0.12, 0.1])):  # persons, mostly on the sidewalk
        dv = 0.03 + 0.37 * rng.random() ** 1.5
        if rng.random() < 0.85:
            dv, u = on_sidewalk(dv, 0.1, 0.9)
        else:
            u = u_vp + rng.uniform(-0.9, 0.9) * c_r * dv
        objs.append(dict(kind="person", dv=dv, u=u, s=rng.uniform(0.85, 1.12), stride=rng.uniform(0.0, 0.12),
                         top=_TOPS[rng.integers(len(_TOPS))], legs=_TROUSERS[rng.integers(len(_TROUSERS))]))
    lay["objects"] = sorted(objs, key=lambda o: o["dv"])  # painter's order: far to near
    return lay


class _Canvas:
    """Label / instance / float RGB buffers plus pixel-centre coordinates u [W] and v [H]."""

    def __init__(self, height, width):
        self.h, self.w = height, width
        self.u = ((np.arange(width) + 0.5) / width).astype(np.float32)
        self.v = ((np.arange(height) + 0.5) / height).astype(np.float32)
        self.label = np.full((height, width), SKY, np.uint8)
        self.inst = np.full((height, width), SKY, np.int32)
        self.rgb = np.zeros((height, width, 3), np.float32)

    def window(self, u0, u1, v0, v1):
        """Pixel box whose centres lie in [u0, u1) x [v0, v1), widened to >= 1 pixel; None when off-image."""
        box = []
        for a, b, n in ((v0, v1, self.h), (u0, u1, self.w)):
            i0, i1 = int(np.ceil(a * n - 0.5)), int(np.ceil(b * n - 0.5))
            if i1 <= i0:
                i0 = int(np.floor((a + b) / 2 * n))
                i1 = i0 + 1
            i0, i1 = max(i0, 0), min(i1, n)
            if i0 >= i1:
                return None
            box += [i0, i1]
        return box

    def paint(self, box, parts, cls, inst):
        """Paint `parts` [(mask [h, w], rgb [3] or [h, w, 3])] in order into `box` with one class / instance id."""
        r0, r1, c0, c1 = box
        lab, ins, rgb = self.label[r0:r1, c0:c1], self.inst[r0:r1, c0:c1], self.rgb[r0:r1, c0:c1]
        union = np.zeros(lab.shape, bool)
        for mask, colour in parts:
            mask = np.broadcast_to(mask, lab.shape)
            rgb[mask] = colour if np.ndim(colour) == 1 else colour[mask]
            union |= mask
        lab[union], ins[union] = cls, inst


def _draw_background(cv: _Canvas, lay: dict):
    """Sky, skyline (buildings with window grids, low walls) and the perspective ground with its verges."""
    v_h, u_vp, c_r = lay["v_h"], lay["u_vp"], lay["c_r"]
    r_h = int(np.searchsorted(cv.v, v_h))  # rows above the horizon
    t = (cv.v[:r_h] / v_h)[:, None, None]
    cv.rgb[:r_h] = np.array((70, 125, 205), np.float32) * (1 - t) + np.array((185, 210, 235), np.float32) * t
    sky = lay["skyline"]
    col = sky[np.clip(np.searchsorted(sky[:, 0], cv.u, side="right") - 1, 0, None)]  # per-column segment
    kind, top, base, floor_h, win_sp, win_dark = col[:, 1], col[:, 2], col[:, 3:6], col[:, 6], col[:, 7], col[:, 8]
    v = cv.v[:r_h, None]
    y = v - top
    built = (y >= 0) & (kind != _GAP)
    fy, fx = _frac(y / floor_h), _frac((cv.u - col[:, 0]) / win_sp)
    window = (fy > 0.35) & (fy < 0.85) & (fx > 0.2) & (fx < 0.75) & (y > 0.5 * floor_h) & (kind == _HOUSE)
    joints = (kind == _LOWWALL) & (_frac(y / 0.012) < 0.2)
    facade = np.where(joints[..., None], 140.0, np.where((kind == _LOWWALL)[:, None], 182.0, base))
    facade = np.where(window[..., None], np.array((55, 65, 82), np.float32) * win_dark[:, None], facade)
    cv.rgb[:r_h] = np.where(built[..., None], facade, cv.rgb[:r_h])
    cv.label[:r_h] = np.where(built, np.where(kind == _LOWWALL, WALL, BUILDING), SKY)

    dv = np.maximum(cv.v[r_h:, None] - v_h, 1e-4)  # depth below the horizon (image height units)
    du = cv.u - u_vp
    c_side = np.where(du < 0, lay["c_s"][0], lay["c_s"][1])
    a, z = np.abs(du) / dv, 1.0 / dv
    road, walk = a < c_r, (a >= c_r) & (a < c_side)
    ground = np.where(road, np.uint8(ROAD), np.where(walk, np.uint8(SIDEWALK), np.uint8(TERRAIN)))
    rgb = np.take(np.float32([(82, 82, 88), (150, 145, 138), (118, 140, 68)]), np.minimum(ground, 2), axis=0)
    dash = (np.abs(du / dv - lay["lane_r"]) < 0.025) & (_frac(0.5 * z + lay["dash_phase"]) < 0.45)
    marks = road & (dash | (lay["edge_lines"] & (a > 0.95 * c_r)))
    rgb[marks] = (205, 205, 198)
    rgb[walk & (a < 1.06 * c_r)] = (188, 184, 176)  # curb
    rgb[walk & (a >= 1.06 * c_r) & (_frac(z) < 0.12)] = (118, 114, 108)  # paving joints
    # Verges: a vertical band standing on the sidewalk's outer edge projects to a wedge towards the vanishing point.
    dv_g = np.abs(du) / c_side  # depth of the ground line in each column
    for side, (vkind, d0, d1) in enumerate(lay["verges"]):
        cols = ((du < 0) if side == 0 else (du >= 0)) & (dv_g > d0) & (dv_g < d1)
        if vkind == 0 or not cols.any():
            continue
        height = 1.2 if vkind == 1 else 1.0  # metres, camera 1.5 m above the ground
        y = (dv_g - dv) / (dv_g * height / 1.5)  # 0 at the ground line, 1 at the top
        band = cols & (y > 0) & (y <= 1)
        if vkind == 1:
            post = (_frac(0.7 / np.maximum(dv_g, 1e-4)) < 0.2) | ((y > 0.75) & (y < 0.87)) | ((y > 0.3) & (y < 0.42))
            rgb[band] = np.where(post[..., None], np.float32((78, 60, 42)), np.float32((128, 100, 70)))[band]
            ground[band] = FENCE
        else:
            rgb[band] = (52, 98, 40)
            ground[band] = VEGETATION
    cv.rgb[r_h:], cv.label[r_h:] = rgb, ground
    cv.inst[:] = cv.label


def _draw_object(cv: _Canvas, lay: dict, o: dict, counters: dict):
    """One tree / pole / car / person standing on the ground at depth o['dv'] (sizes in metres scale with depth)."""
    dv, u, s, v_b = o["dv"], o["u"], o["s"], lay["v_h"] + o["dv"]
    m_v, m_u = dv / 1.5, dv / 3.0  # image units per metre (camera 1.5 m high, reference aspect 2:1)
    kind = o["kind"]
    if kind == "pole":
        h = 4.5 * m_v * s
        box = cv.window(u - 0.075 * m_u, u + 0.075 * m_u, v_b - h, v_b)
        if box:
            cv.paint(box, [(True, np.float32((122, 126, 132)))], POLE, POLE)
        top = v_b - h
        if o["light"]:
            box = cv.window(u - 0.18 * m_u, u + 0.18 * m_u, top, top + 0.9 * m_v)
            if box:
                y = (cv.v[box[0]:box[1], None] - top) / (0.9 * m_v)
                lamp = (np.abs(_frac(y * 3) - 0.5) < 0.3) & ((y * 3).astype(int) == o["lamp"])
                cv.paint(box, [(True, np.float32((32, 34, 30))), (lamp, _LAMPS[o["lamp"]])], LIGHT, LIGHT)
            top += 1.0 * m_v
        if o["sign"]:
            box = cv.window(u - 0.35 * m_u, u + 0.35 * m_u, top, top + 0.7 * m_v)
            if box:
                x = (cv.u[None, box[2]:box[3]] - u) / (0.35 * m_u)
                y = (cv.v[box[0]:box[1], None] - top) / (0.35 * m_v) - 1
                shape = [np.hypot(x, y) < 1.05, np.abs(x) + np.abs(y) < 1.1, np.ones_like(x * y, bool)][o["sign_shape"]]
                inner = [np.hypot(x, y) < 0.55, np.abs(x) + np.abs(y) < 0.55, (np.abs(x) < 0.5) & (np.abs(y) < 0.5)]
                cv.paint(box, [(shape, np.float32((232, 196, 40))), (shape & inner[o["sign_shape"]],
                                                                     np.float32((40, 40, 45)))], SIGN, SIGN)
        return
    if kind == "tree":
        h, rx = 6.0 * m_v * s, 2.2 * m_u * s
        cy, ry = v_b - 0.62 * h, 0.36 * h
        trunk = cv.window(u - 0.15 * m_u, u + 0.15 * m_u, cy, v_b)
        if trunk:
            cv.paint(trunk, [(True, np.float32((85, 66, 46)))], VEGETATION, VEGETATION)
        box = cv.window(u - 1.25 * rx, u + 1.25 * rx, cy - 1.25 * ry, cy + 1.25 * ry)
        if box:
            x, y = (cv.u[None, box[2]:box[3]] - u) / rx, (cv.v[box[0]:box[1], None] - cy) / ry
            theta = np.arctan2(y, x)
            edge = 1 + 0.12 * np.sin(5 * theta + o["phase"][0]) + 0.08 * np.sin(9 * theta + o["phase"][1])
            cv.paint(box, [(np.hypot(x, y) < edge, np.float32((55, 105, 42)) * o["green"])], VEGETATION, VEGETATION)
        return
    cls = CAR if kind == "car" else PERSON
    inst = cls * 1000 + counters.setdefault(cls, 0)
    if kind == "car":  # rear view: body, cabin with rear window, tail lights, plate, tyres
        w, h = 1.8 * m_u * s, 1.5 * m_v * s
        box = cv.window(u - w / 2, u + w / 2, v_b - h, v_b)
        if box is None:
            return
        x, y = np.abs(cv.u[None, box[2]:box[3]] - u) / w, (v_b - cv.v[box[0]:box[1], None]) / h
        taper = 0.48 - 0.26 * (y - 0.62)
        parts = [((y > 0.12) & (y < 0.62), o["body"]), ((y >= 0.62) & (x < taper), o["body"] * 0.85),
                 ((y > 0.67) & (y < 0.94) & (x < taper - 0.06), np.float32((80, 100, 130))),
                 ((y > 0.45) & (y < 0.56) & (x > 0.36), np.float32((190, 25, 25))),
                 ((y > 0.2) & (y < 0.3) & (x < 0.12), np.float32((225, 225, 222))),
                 ((y <= 0.12) & (x > 0.3), np.float32((22, 22, 24)))]
    else:  # person: head, torso, legs with a stride, shoes
        w, h = 0.5 * m_u * s, 1.7 * m_v * s
        box = cv.window(u - w / 2, u + w / 2, v_b - h, v_b)
        if box is None:
            return
        x, y = (cv.u[None, box[2]:box[3]] - u) / w, (v_b - cv.v[box[0]:box[1], None]) / h
        leg_off = 0.2 + o["stride"] * (0.5 - y) / 0.5
        legs = (y < 0.5) & (np.abs(np.abs(x) - leg_off) < 0.14)
        parts = [(legs, o["legs"]), (legs & (y < 0.04), np.float32((28, 26, 24))),
                 ((y >= 0.48) & (y < 0.84) & (np.abs(x) < 0.5 - 0.2 * (0.84 - y)), o["top"]),
                 (np.hypot(x / 0.22, (y - 0.92) / 0.08) < 1, _SKIN)]
    counters[cls] += 1
    cv.paint(box, parts, cls, inst)


def render_scene(seed: int, split: str, index: int, height: int, width: int) -> dict:
    """Render scene `index` of `split` ('train' / 'val', disjoint generator streams) at `height` x `width` >= 32.

    Returns dict(image=uint8 [H, W, 3], label=uint8 [H, W] in [0, LABEL_NC), instance=int32 [H, W]).
    Deterministic in (seed, split, index, height, width); the layout depends on (seed, split, index) only.
    """
    _check_args(split, height, width)
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or index < 0:
        raise ValueError(f"synthetic dataset: index must be a non-negative integer, got {index!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"synthetic dataset: seed must be an integer, got {seed!r}")
    lay = _sample_layout(_stable_rng(int(seed), split, int(index)))
    cv = _Canvas(height, width)
    _draw_background(cv, lay)
    counters = {}
    for obj in lay["objects"]:
        _draw_object(cv, lay, obj, counters)
    smooth = _upsample(lay["smooth"], height, width)[..., None]
    noise = _stable_rng(int(seed), split, int(index), height, width).standard_normal((height, width, 1), np.float32)
    image = cv.rgb * (lay["gain"] * lay["tint"]).astype(np.float32)
    image += noise * np.take(_PIXEL_AMP, cv.label, axis=0) + smooth * np.take(_SMOOTH_AMP, cv.label, axis=0)
    return dict(image=np.clip(image, 0, 255).astype(np.uint8), label=cv.label, instance=cv.inst)


def colorize(label: np.ndarray) -> np.ndarray:
    """uint8 [H, W] label map -> uint8 [H, W, 3] Cityscapes-palette visualisation."""
    return PALETTE[label]


def class_frequencies(split: str, n: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """Pixel fraction of each class over scenes 0..n-1 of `split`: float64 [LABEL_NC], sums to 1."""
    _check_args(split, height, width)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"class_frequencies: n must be a positive integer number of scenes, got {n!r}")
    counts = np.zeros(LABEL_NC, np.int64)
    for i in range(n):
        counts += np.bincount(render_scene(seed, split, i, height, width)["label"].ravel(), minlength=LABEL_NC)
    return counts / counts.sum()
