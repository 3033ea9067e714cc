#!/usr/bin/env python3
"""A flame graph (SVG) of a JFR recording's execution samples, with no tool beyond the JDK's `jfr`.

    scripts/jfr-flamegraph.py recording.jfr out.svg [--title T] [--thread-prefix P (a substring of the thread name)] [--depth N] [--native] [--only F]

Reads `jfr print --events jdk.ExecutionSample --stack-depth N`, folds the stacks (root first),
and draws one box per frame, its width the share of samples that passed through it. With
--folded F, also writes the folded stacks ("frame;frame;... count"), the format other flame-graph
tools read. With --native, the threads JFR found in native code (jdk.NativeMethodSample: an
ND4J or RocksDB call, a socket read) count too, their leaf the native method: without it a
profile of ND4J work shows only the Java between the native calls. With --only F, only the
stacks through a frame containing F (for example FavorAttention.causal) are drawn. Boxes narrower than two pixels are left out (their samples still count in their parents). Frames are "Class.method" (packages dropped, lines merged).
"""
import argparse
import collections
import html
import re
import subprocess
import sys

FRAME = re.compile(r"^\s+([\w$.<>/]+)\(.*\)\s+line:")


def samples(recording, depth, thread_prefix, native=False):
    events = "jdk.ExecutionSample,jdk.NativeMethodSample" if native else "jdk.ExecutionSample"
    text = subprocess.run(["jfr", "print", "--events", events, "--stack-depth",
                           str(depth), recording], check=True, capture_output=True,
                          text=True).stdout
    for event in re.split(r"jdk\.(?:ExecutionSample|NativeMethodSample)", text)[1:]:
        thread = re.search(r'sampledThread = "([^"]*)"', event)
        if thread_prefix and (not thread or thread_prefix not in thread.group(1)):
            continue
        frames = []
        for line in event.splitlines():
            m = FRAME.match(line)
            if m:
                name = m.group(1)
                parts = name.split(".")
                frames.append(".".join(parts[-2:]) if len(parts) >= 2 else name)
        if frames:
            yield tuple(reversed(frames))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("recording")
    p.add_argument("svg")
    p.add_argument("--title", default="JFR execution samples")
    p.add_argument("--thread-prefix", default="")
    p.add_argument("--depth", type=int, default=96)
    p.add_argument("--folded")
    p.add_argument("--native", action="store_true")
    p.add_argument("--only", default="")
    a = p.parse_args()
    folded = collections.Counter(s for s in samples(a.recording, a.depth, a.thread_prefix,
                                                    a.native)
                                 if not a.only or any(a.only in f for f in s))
    total = sum(folded.values())
    if total == 0:
        sys.exit("no execution samples matched")
    if a.folded:
        with open(a.folded, "w") as f:
            for stack, n in folded.most_common():
                f.write(";".join(stack) + " " + str(n) + "\n")
    tree = {}
    for stack, n in folded.items():
        node = tree
        for frame in stack:
            entry = node.setdefault(frame, [0, {}])
            entry[0] += n
            node = entry[1]
    width, row, top = 1200.0, 16, 40
    boxes = []
    max_depth = [0]

    def draw(node, x, depth):
        for frame, (n, children) in sorted(node.items()):
            w = width * n / total
            if w >= 2.0:
                boxes.append((x, depth, w, frame, n))
                max_depth[0] = max(max_depth[0], depth)
                draw(children, x, depth + 1)
            x += w

    draw(tree, 0.0, 0)
    height = top + (max_depth[0] + 1) * row + 10
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="monospace" font-size="11">' % (width, height),
           '<text x="4" y="16" font-size="14">%s (%d samples)</text>' % (html.escape(a.title),
                                                                        total)]
    for x, depth, w, frame, n in boxes:
        y = height - 10 - (depth + 1) * row
        hue = 20 + (hash(frame) % 40)
        label = frame if len(frame) * 6.5 < w - 4 else frame[: max(0, int((w - 4) / 6.5) - 1)]
        out.append('<g><title>%s: %d samples (%.1f%%)</title><rect x="%.1f" y="%d" width="%.1f" '
                   'height="%d" fill="hsl(%d,85%%,60%%)" stroke="white" stroke-width="0.5"/>'
                   '<text x="%.1f" y="%d">%s</text></g>' % (
                       html.escape(frame), n, 100.0 * n / total, x, y, w, row - 1, hue, x + 2,
                       y + row - 4, html.escape(label) if len(label) > 1 else ""))
    out.append("</svg>")
    with open(a.svg, "w") as f:
        f.write("\n".join(out) + "\n")
    print("%s: %d samples, %d stacks" % (a.svg, total, len(folded)))


if __name__ == "__main__":
    main()
