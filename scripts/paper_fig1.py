#!/usr/bin/env python3
"""Draws Fig. 1 of docs/paper-tables.md: BSD100 x2 PSNR against latency, the paper's and ours.

    paper_fig1.py PAPER_TSV OURS_TSV > FIG.svg

PAPER_TSV: scripts/paper_tables.sh's paper_grid (name, x2 FP16, x2 INT8, ..., latency ms).
OURS_TSV: one row per model (label, fp32 PSNR, INT8 PSNR, fp32 ms, INT8 ms; a cell that is not a
number is left out). A model's fp32 (circle) and INT8 (square) points are joined by a line. Every
model has one number, the same in both panels, placed beside its point where it overlaps no other
number or point, and named in the key under the panels: 20-odd names as text would bury a cluster.
"""
import math
import re
import sys

PANEL_W, PLOT_H, TOP, LEFT, GAP = 420, 360, 40, 70, 80
WIDTH = LEFT + 2 * PANEL_W + GAP + 30  # room for the last tick label
KEY_COLUMNS, KEY_LINE = 3, 16
DIGIT_W, TEXT_H = 6.5, 10  # of the 10 px numbers: width per digit, height
QUICKSRNET, BASELINE = "#c03020", "#2060b0"


def number(text):
    try:
        return float(text)
    except ValueError:
        return None


def key_of(name):
    """One key for a model's paper name and our label: 'QuickSRNet-f32-m2 (Small)' and
    'QuickSRNet-f32-m2', 'EDSR' and 'edsr-baseline' are one model."""
    name = re.sub(r" \((Small|Medium|Large)\)", "", name).lower()
    return re.sub(r"-baseline$", "", name)


def read_models(paper_path, ours_path):
    """[(key, display name, [(psnr, ms, shape, panel)])] in the paper's order, then ours-only."""
    models = {}
    for line in open(paper_path).read().splitlines():
        fields = line.split("\t")
        name = fields[0] if not re.match(r"f\d+-m", fields[0]) else "QuickSRNet-" + fields[0]
        psnr, ms = number(fields[2]), number(fields[7].split()[0])
        display = name if name.startswith("QuickSRNet") else key_of(name).upper()
        models[key_of(name)] = [display, [(psnr, ms, "square", 0)] if psnr and ms else []]
    for line in open(ours_path).read().splitlines():
        label, fp32, int8, fp32_ms, int8_ms = (line.split("\t") + [""] * 5)[:5]
        model = models.setdefault(key_of(label), [label, []])
        model[0] = label  # our label names the variant (Small, official weights)
        for psnr, ms, shape in ((fp32, fp32_ms, "circle"), (int8, int8_ms, "square")):
            if number(psnr) and number(ms):
                model[1].append((number(psnr), number(ms), shape, 1))
    return [(key, display, points) for key, (display, points) in models.items() if points]


class Panel:
    def __init__(self, x0, points):
        self.x0 = x0
        xs = [p[1] for p in points] or [1.0]
        ys = [p[0] for p in points] or [31.5]
        self.lx0, self.lx1 = math.log10(min(xs)) - 0.1, math.log10(max(xs)) + 0.1
        self.y0, self.y1 = min(ys) - 0.1, max(ys) + 0.1

    def x(self, ms):
        return self.x0 + (math.log10(ms) - self.lx0) / (self.lx1 - self.lx0) * PANEL_W

    def y(self, psnr):
        return TOP + (self.y1 - psnr) / (self.y1 - self.y0) * PLOT_H

    def frame(self, title, xlabel):
        x0, mid = self.x0, self.x0 + PANEL_W / 2
        out = [f'<rect x="{x0}" y="{TOP}" width="{PANEL_W}" height="{PLOT_H}" fill="none" '
               'stroke="#444"/>',
               f'<text x="{mid}" y="{TOP - 12}" text-anchor="middle" font-weight="bold">{title}'
               '</text>',
               f'<text x="{mid}" y="{TOP + PLOT_H + 40}" text-anchor="middle">{xlabel}</text>',
               f'<text x="{x0 - 50}" y="{TOP + PLOT_H / 2}" text-anchor="middle" '
               f'transform="rotate(-90 {x0 - 50} {TOP + PLOT_H / 2})">BSD100 x2 PSNR (dB)</text>']
        for k in range(5):
            v = self.y0 + (self.y1 - self.y0) * k / 4
            out.append(f'<text x="{x0 - 6}" y="{self.y(v) + 4:.1f}" text-anchor="end" '
                       f'font-size="11">{v:.2f}</text>')
            lv = self.lx0 + (self.lx1 - self.lx0) * k / 4
            out.append(f'<text x="{self.x(10 ** lv):.1f}" y="{TOP + PLOT_H + 16}" '
                       f'text-anchor="middle" font-size="11">{tick(10 ** lv)}</text>')
        return out


def tick(ms):
    """A latency tick label: three significant digits, without an exponent."""
    return f"{ms:.3g}" if ms < 1000 else f"{ms:.0f}"


def overlap(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place(x, y, text, taken, bounds):
    """The box (x0, y0, x1, y1) of TEXT beside the point (x, y): the first candidate inside
    BOUNDS that overlaps nothing TAKEN, else the one that overlaps least."""
    w, h = DIGIT_W * len(text), TEXT_H
    candidates = [(x + 6, y - 5 - h), (x + 6, y + 5), (x - 6 - w, y - 5 - h), (x - 6 - w, y + 5),
                  (x + 7, y - h / 2), (x - 7 - w, y - h / 2), (x - w / 2, y - 7 - h),
                  (x - w / 2, y + 7), (x + 12, y - 12 - h), (x - 12 - w, y + 12)]
    best = None
    for cx, cy in candidates:
        box = (cx, cy, cx + w, cy + h)
        if not (bounds[0] <= box[0] and box[2] <= bounds[2] and bounds[1] <= box[1] and
                box[3] <= bounds[3]):
            continue
        hits = sum(overlap(box, t) for t in taken)
        if best is None or hits < best[0]:
            best = (hits, box)
        if hits == 0:
            break
    return best[1] if best else (x + 6, y - 5 - h, x + 6 + w, y - 5)


def draw_points(panel, models, index):
    """Markers, fp32-INT8 lines and numbers of the models that have points in this panel."""
    out, labels = [], []
    mine = [(n, key, [p for p in points if p[3] == index])
            for n, (key, _, points) in enumerate(models, 1)]
    mine = [m for m in mine if m[2]]
    taken = [(panel.x(p[1]) - 5, panel.y(p[0]) - 5, panel.x(p[1]) + 5, panel.y(p[0]) + 5)
             for m in mine for p in m[2]]
    bounds = (panel.x0, TOP, panel.x0 + PANEL_W, TOP + PLOT_H)
    for n, key, points in mine:
        colour = QUICKSRNET if key.startswith("quicksrnet") else BASELINE
        xy = [(panel.x(ms), panel.y(psnr)) for psnr, ms, _, _ in points]
        if len(xy) == 2:
            out.append(f'<line x1="{xy[0][0]:.1f}" y1="{xy[0][1]:.1f}" x2="{xy[1][0]:.1f}" '
                       f'y2="{xy[1][1]:.1f}" stroke="{colour}" stroke-opacity="0.5"/>')
        for (x, y), (_, _, shape, _) in zip(xy, points):
            if shape == "square":
                out.append(f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" '
                           f'fill="{colour}"/>')
            else:
                out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{colour}"/>')
        box = place(*xy[0], str(n), taken, bounds)
        taken.append(box)
        labels.append(f'<text x="{box[0]:.1f}" y="{box[3] - 1:.1f}" font-size="10">{n}</text>')
    return out + labels


def key_lines(models, y0):
    """The key: number and name of every model, in columns under the panels."""
    out, rows = [], math.ceil(len(models) / KEY_COLUMNS)
    column_w = (WIDTH - LEFT) / KEY_COLUMNS
    for n, (key, display, _) in enumerate(models, 1):
        column, row = divmod(n - 1, rows)
        colour = QUICKSRNET if key.startswith("quicksrnet") else BASELINE
        out.append(f'<text x="{LEFT + column * column_w:.0f}" y="{y0 + row * KEY_LINE}" '
                   f'font-size="11"><tspan fill="{colour}" font-weight="bold">{n}</tspan> '
                   f'{display}</text>')
    return out, rows * KEY_LINE


def main(paper_path, ours_path):
    models = read_models(paper_path, ours_path)
    panels = []
    for index in (0, 1):
        points = [p for _, _, ps in models for p in ps if p[3] == index]
        panels.append((Panel(LEFT + index * (PANEL_W + GAP), points), bool(points)))
    key, key_h = key_lines(models, TOP + PLOT_H + 70)
    height = TOP + PLOT_H + 70 + key_h
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           'font-family="sans-serif" font-size="12">',
           '<rect width="100%" height="100%" fill="white"/>']
    titles = [("Paper (Tabs. 2, 3): INT8, phone NPU", "latency (ms, log scale)"),
              ("Ours: fp32 (circles), INT8 (squares), CPU", "engine latency, min (ms, log scale)")]
    for index, ((panel, has_points), (title, xlabel)) in enumerate(zip(panels, titles)):
        svg += panel.frame(title, xlabel)
        svg += draw_points(panel, models, index)
        if not has_points:
            svg.append(f'<text x="{panel.x0 + PANEL_W / 2}" y="{TOP + PLOT_H / 2}" '
                       'text-anchor="middle">not measured yet</text>')
    svg += key
    svg.append("</svg>")
    print("\n".join(svg))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: paper_fig1.py PAPER_TSV OURS_TSV > FIG.svg")
    main(sys.argv[1], sys.argv[2])
