#!/usr/bin/python3
"""bench/charts.py - PNG charts of a bench run (matplotlib, Debian's python3-matplotlib).

    /usr/bin/python3 bench/charts.py [DATA_DIR]    (default build/bench/data)

bench/run.py calls write() at the end of a run, with what it measured kept in
DATA_DIR/charts.json (and the latency CDFs smload wrote, cdf-<side>-<conns>.txt),
so the charts can be drawn again from a run's data. Charts: throughput against
connections (scenario 1, the daemon and each baseline), latency CDFs side by
side (scenario 1), mail flow per setup (scenario 4: messages/s, CPU per
message). Without matplotlib nothing is drawn and the run says so.
"""
import json
import sys
from pathlib import Path

SIDES = {"daemon": ("postfix-aws-cassandra", "tab:red"),
         "bare": ("bare epoll server (loopback limit)", "tab:green"),
         "echo": ("sm-echo (libevent)", "tab:blue"),
         "lmdb": ("lmdb: tables", "tab:green"),
         "oracle": ("oracle socketmap", "tab:blue")}
DPI = 80                # small PNGs: they are committed under bench/img/


def throughput(plt, data, out):
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for side in ("bare", "echo", "daemon"):
        pts = sorted((int(c), v) for c, v in data.get("scenario1", {}).get(side, {}).items())
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=SIDES[side][0],
                    color=SIDES[side][1])
    ax.set_xscale("log", base=2)
    ax.set_xlabel("client connections (one request in flight each)")
    ax.set_ylabel("cache-hit lookups/s (best round)")
    ax.set_title("Scenario 1: throughput against connections")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "throughput.png", dpi=DPI)
    plt.close(fig)


def cdfs(plt, data_dir, out):
    levels = sorted({int(p.stem.split("-")[2]) for p in data_dir.glob("cdf-*-*.txt")})
    levels = [c for c in levels if c > 1] or levels
    if not levels:
        return
    fig, axes = plt.subplots(1, len(levels), figsize=(4.2 * len(levels), 3.6), squeeze=False)
    for ax, c in zip(axes[0], levels):
        for side in ("bare", "echo", "daemon"):
            f = data_dir / f"cdf-{side}-{c}.txt"
            if not f.exists():
                continue
            pts = [tuple(map(float, l.split())) for l in f.read_text().splitlines() if l.strip()]
            ax.plot([p[1] for p in pts], [p[0] for p in pts], label=SIDES[side][0],
                    color=SIDES[side][1])
        ax.set_xscale("log")
        ax.set_xlabel("latency, us")
        ax.set_title(f"{c} connections")
        ax.grid(True, alpha=0.3)
    axes[0][0].set_ylabel("fraction of lookups")
    axes[0][0].legend(fontsize="small")
    fig.suptitle("Scenario 1: cache-hit latency CDF")
    fig.tight_layout()
    fig.savefig(out / "latency-cdf.png", dpi=DPI)
    plt.close(fig)


def mailflow(plt, data, out):
    s4 = data.get("scenario4", {})
    rate, cpu = s4.get("messages_per_s", {}), s4.get("cpu_ms_per_message", {})
    sides = [s for s in ("lmdb", "oracle", "daemon") if s in rate]
    if not sides:
        return
    fig, axes = plt.subplots(1, 2 if cpu else 1, figsize=(8 if cpu else 4.5, 3.6), squeeze=False)
    panels = [("messages/s (warm)", rate)] + ([("CPU ms per message, all processes", cpu)] if cpu else [])
    for ax, (title, vals) in zip(axes[0], panels):
        names = [s for s in sides if s in vals]
        bars = ax.bar([{"lmdb": "lmdb", "oracle": "oracle", "daemon": "daemon"}[s] for s in names],
                      [vals[s] for s in names],
                      color=[SIDES[s][1] if s != "daemon" else "tab:red" for s in names])
        ax.bar_label(bars, fmt="%.1f")
        ax.set_title(title)
        ax.grid(True, axis="y", alpha=0.3)
    fig.suptitle("Scenario 4: mail flow through a private Postfix, per map setup")
    fig.tight_layout()
    fig.savefig(out / "mailflow.png", dpi=DPI)
    plt.close(fig)


def write(data_dir):
    """Draw every chart the data allows into data_dir's parent; the files written."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    data_dir = Path(data_dir)
    f = data_dir / "charts.json"
    data = json.loads(f.read_text()) if f.exists() else {}
    out = data_dir.parent
    if data.get("scenario1"):
        throughput(plt, data, out)
        cdfs(plt, data_dir, out)
    mailflow(plt, data, out)
    return sorted(str(p) for p in out.glob("*.png"))


if __name__ == "__main__":
    got = write(sys.argv[1] if len(sys.argv) > 1 else "build/bench/data")
    if got is None:
        sys.exit("charts: matplotlib is missing (apt-get install python3-matplotlib)")
    print("\n".join(got))
