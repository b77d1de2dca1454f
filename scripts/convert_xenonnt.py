#!/usr/bin/env python3
"""Convert XENONnT's public 8B CEvNS likelihood release (HDF5) into the small
CSV / Parquet tables under data/xenonnt/ that the Rust pipeline reads.

Not part of the build or the tests: run it by hand (needs h5py, numpy,
pyarrow, pandas; `.venv/bin/python` has them) when the release changes.

    .venv/bin/python scripts/convert_xenonnt.py \
        --cevns-repo  /path/to/XENONnT/cevns_data_release       (git dir or checkout) \
        --lightwimp-repo /path/to/XENONnT/light_wimp_data_release \
        --out data/xenonnt

Each repository may be a bare git directory (read at HEAD with `git archive`)
or a checkout. Every original file used is listed with its SHA-256 in
data/xenonnt/SOURCES.sha256, and the commits in data/xenonnt/SOURCES.yaml.

Bin index convention (both releases): the HDF5 `templates/template` array has
shape (3, 3, 3, 3) over (cs2, S2-shadow quantile, S1 BDT, S2 BDT); bin =
27 i_cs2 + 9 i_shadow + 3 i_s1bdt + i_s2bdt (C order of the array).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import h5py
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

AXES = ["cs2", "s2_shadow_s2_time_shadow_quantile", "s1_bdt_score", "s2_bdt_score"]
SRS_2026 = ["sr0", "sr1", "sr2"]
SRS_2024 = ["sr0", "sr1"]
ANCHORS = [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]
MONO_E = [round(0.5 + 0.1 * i, 3) for i in range(46)]  # 0.5 ... 5.0 keV


def materialise(repo: Path, tmp: Path, name: str) -> tuple[Path, str]:
    """Return (checkout dir, commit) for a bare git dir or a checkout."""
    git_dir = repo if (repo / "HEAD").exists() and not (repo / ".git").exists() else repo / ".git"
    commit = subprocess.check_output(["git", f"--git-dir={git_dir}", "rev-parse", "HEAD"], text=True).strip()
    if (repo / ".git").exists():
        return repo, commit
    out = tmp / name
    out.mkdir()
    tar = subprocess.check_output(["git", f"--git-dir={git_dir}", "archive", "HEAD"])
    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        t.extractall(out, filter="data")
    return out, commit


class Sources:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str]] = []

    def use(self, root: Path, rel: str, label: str) -> Path:
        p = root / rel
        if not p.exists():
            sys.exit(f"missing source file {p}")
        self.rows.append((hashlib.sha256(p.read_bytes()).hexdigest(), f"{label}:{rel}"))
        return p


def read_h5(path: Path, edges: dict[str, list[float]] | None) -> np.ndarray:
    with h5py.File(path, "r") as h:
        t = h["templates/template"][()]
        if t.shape != (3, 3, 3, 3):
            sys.exit(f"{path}: template shape {t.shape}, expected (3,3,3,3)")
        if edges is not None:
            for i, ax in enumerate(AXES):
                e = h[f"bins/{i}"][()]
                if not np.allclose(e, edges[ax], rtol=1e-9, atol=1e-9):
                    sys.exit(f"{path}: bins/{i} {e} differ from the binning {edges[ax]}")
    flat = t.ravel()
    if not np.all(np.isfinite(flat)) or np.any(flat < 0):
        sys.exit(f"{path}: negative or non-finite template value")
    return flat


def write_parquet(path: Path, cols: dict, meta: dict[str, str]) -> None:
    table = pa.table(cols)
    table = table.replace_schema_metadata({k.encode(): v.encode() for k, v in meta.items()})
    # Deterministic: no statistics timestamps, fixed compression (the Rust
    # reader has only snappy).
    pq.write_table(table, path, compression="snappy", write_statistics=False)


def template_table(rows: list[tuple]) -> dict:
    sr, comp, e, tly, tqy, b, v = zip(*rows)
    return {
        "sr": pa.array(sr, pa.string()),
        "component": pa.array(comp, pa.string()),
        "e_kev": pa.array(e, pa.float64()),
        "tly": pa.array(tly, pa.float64()),
        "tqy": pa.array(tqy, pa.float64()),
        "bin": pa.array(b, pa.uint32()),
        "value": pa.array(v, pa.float64()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cevns-repo", type=Path, required=True)
    ap.add_argument("--lightwimp-repo", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=Path("data/xenonnt"))
    args = ap.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    src = Sources()

    with tempfile.TemporaryDirectory() as tmpd:
        tmp = Path(tmpd)
        cev, cev_commit = materialise(args.cevns_repo, tmp, "cevns")
        lw, lw_commit = materialise(args.lightwimp_repo, tmp, "lw")
        lwd = "light_wimp_data_release/data"

        # --- binning (2026 release; the 2024 release's SR0/SR1 edges are
        # checked equal below through statistical_model_base.yaml and h5 bins).
        edges: dict[str, dict[str, list[float]]] = {}
        lines = ["sr,axis,axis_index,e0,e1,e2,e3"]
        for sr in SRS_2026:
            b = yaml.safe_load(src.use(cev, f"binning/{sr}.yaml", "cevns").read_text())
            edges[sr] = {ax: [float(x) for x in b[ax]] for ax in AXES}
            for i, ax in enumerate(AXES):
                e = edges[sr][ax]
                if len(e) != 4 or any(b <= a for a, b in zip(e, e[1:])):
                    sys.exit(f"binning/{sr}.yaml: {ax} edges {e} not 4 increasing values")
                lines.append(f"{sr},{ax},{i}," + ",".join(repr(x) for x in e))
        (out / "binning.csv").write_text("\n".join(lines) + "\n")
        edge_meta = json.dumps(edges, sort_keys=True)

        # --- observed events: raw observables (62 events) and binned counts.
        ev_lines = ["sr," + ",".join(AXES)]
        obs_lines = ["sr,bin,n"]
        for sr in SRS_2026:
            path = src.use(cev, f"data/{sr}.csv", "cevns")
            rows = [l.split(",") for l in path.read_text().splitlines()[1:] if l.strip()]
            counts = np.zeros(81, dtype=int)
            for r in rows:
                x = [float(v) for v in r[1:5]]
                ev_lines.append(f"{sr}," + ",".join(r[1:5]))
                idx = []
                for ax, v in zip(AXES, x):
                    e = edges[sr][ax]
                    if not (e[0] <= v <= e[-1]):
                        sys.exit(f"{path}: event {r} outside the binning of {ax}")
                    idx.append(min(int(np.searchsorted(e, v, side="right")) - 1, 2))
                counts[27 * idx[0] + 9 * idx[1] + 3 * idx[2] + idx[3]] += 1
            for i, n in enumerate(counts):
                obs_lines.append(f"{sr},{i},{n}")
            print(f"{sr}: {len(rows)} events", file=sys.stderr)
        (out / "events.csv").write_text("\n".join(ev_lines) + "\n")
        (out / "observed.csv").write_text("\n".join(obs_lines) + "\n")

        # --- 2026 release: backgrounds and mono-energetic NR efficiency templates.
        d26 = out / "release2026"
        d26.mkdir(exist_ok=True)
        rows: list[tuple] = []
        for sr in SRS_2026:
            for comp in ["ac", "er"]:
                rel = f"templates/{sr}/{comp}/template_XENONnT_{sr}_{comp}_cevns.h5"
                t = read_h5(src.use(cev, rel, "cevns"), edges[sr])
                rows += [(sr, comp, 0.0, 0.0, 0.0, i, float(v)) for i, v in enumerate(t)]
            for a in ANCHORS:
                for b in ANCHORS:
                    rel = f"templates/{sr}/rg/template_XENONnT_{sr}_rg_cevns_tly_{a:.1f}_tqy_{b:.1f}.h5"
                    t = read_h5(src.use(cev, rel, "cevns"), edges[sr])
                    rows += [(sr, "nr", 0.0, a, b, i, float(v)) for i, v in enumerate(t)]
        write_parquet(
            d26 / "backgrounds.parquet",
            template_table(rows),
            {
                "xenonnt.binning": edge_meta,
                "xenonnt.units": "value: expected events per tonne-year per bin",
                "xenonnt.source": f"XENONnT/cevns_data_release@{cev_commit} templates/sr*/{{ac,er,rg}}",
            },
        )
        for sr in SRS_2026:
            rows = []
            for a in ANCHORS:
                for b in ANCHORS:
                    for e in MONO_E:
                        rel = f"templates/{sr}/mono/template_XENONnT_{sr}_mono_{e:.3f}_cevns_tly_{a:.1f}_tqy_{b:.1f}.h5"
                        t = read_h5(src.use(cev, rel, "cevns"), edges[sr])
                        rows += [(sr, "mono", e, a, b, i, float(v)) for i, v in enumerate(t)]
            write_parquet(
                d26 / f"mono-{sr}.parquet",
                template_table(rows),
                {
                    "xenonnt.binning": json.dumps({sr: edges[sr]}, sort_keys=True),
                    "xenonnt.units": "value: probability that a nuclear recoil of e_kev lands in the bin (dimensionless)",
                    "xenonnt.source": f"XENONnT/cevns_data_release@{cev_commit} templates/{sr}/mono",
                },
            )
            print(f"{sr}: mono templates {len(rows)} values", file=sys.stderr)

        # --- 2024 (PRL 133, 191002 / light-WIMP) release: SR0+SR1 backgrounds and
        # the collaboration's own folded 8B templates.
        d24 = out / "prl2024"
        d24.mkdir(exist_ok=True)
        base = yaml.safe_load(src.use(lw, f"{lwd}/statistical_model_base.yaml", "lightwimp").read_text())
        for term, sr in zip(base["likelihood_config"]["likelihood_terms"], SRS_2024):
            for ax_cfg, ax in zip(term["analysis_space"], AXES):
                (_, spec), = ax_cfg.items()
                e = [0.0, 1 / 3, 2 / 3, 1.0] if "linspace" in spec else [float(x) for x in spec.split()]
                if not np.allclose(e, edges[sr][ax], rtol=1e-9, atol=1e-9):
                    sys.exit(f"2024 binning of {sr}/{ax} {e} differs from 2026 {edges[sr][ax]}")
        rows = []
        for sr in SRS_2024:
            for comp in ["ac", "er"]:
                rel = f"{lwd}/{comp}/template_XENONnT_{sr}_{comp}_cevns.h5"
                t = read_h5(src.use(lw, rel, "lightwimp"), edges[sr])
                rows += [(sr, comp, 0.0, 0.0, 0.0, i, float(v)) for i, v in enumerate(t)]
            for comp, folder in [("nr", "rg"), ("b8", "b8")]:
                for a in ANCHORS:
                    for b in ANCHORS:
                        rel = f"{lwd}/{folder}/template_XENONnT_{sr}_{folder}_cevns_tly_{a:.1f}_tqy_{b:.1f}.h5"
                        t = read_h5(src.use(lw, rel, "lightwimp"), edges[sr])
                        rows += [(sr, comp, 0.0, a, b, i, float(v)) for i, v in enumerate(t)]
        write_parquet(
            d24 / "templates.parquet",
            template_table(rows),
            {
                "xenonnt.binning": json.dumps({s: edges[s] for s in SRS_2024}, sort_keys=True),
                "xenonnt.units": "value: expected events per tonne-year per bin (b8 at the collaboration's nominal flux)",
                "xenonnt.source": f"XENONnT/light_wimp_data_release@{lw_commit} data/{{ac,er,rg,b8}}",
            },
        )
        spec = json.loads(src.use(lw, f"{lwd}/signal/cevns_spectrum.json", "lightwimp").read_text())
        lines = [
            "# XENONnT 8B CEvNS recoil spectrum on Xe (light_wimp_data_release data/signal/cevns_spectrum.json)",
            f"# coordinate: {spec['coordinate_name']} of the recoil energy; total rate {spec['rate']!r} events/(tonne year)",
            "# between the first and last e_kev",
            "# columns: cdf,e_kev",
        ]
        lines += [f"{c!r},{e!r}" for c, e in zip(spec["coordinate_system"], spec["map"])]
        (d24 / "cevns_spectrum.csv").write_text("\n".join(lines) + "\n")

    (out / "SOURCES.sha256").write_text(
        "".join(f"{h}  {name}\n" for h, name in sorted(src.rows, key=lambda r: r[1]))
    )
    (out / "SOURCES.yaml").write_text(
        yaml.safe_dump(
            {
                "cevns_data_release": {"repo": "https://github.com/XENONnT/cevns_data_release", "commit": cev_commit},
                "light_wimp_data_release": {
                    "repo": "https://github.com/XENONnT/light_wimp_data_release",
                    "commit": lw_commit,
                },
            },
            sort_keys=True,
        )
    )
    print(f"wrote {out} ({len(src.rows)} source files)", file=sys.stderr)


if __name__ == "__main__":
    main()
