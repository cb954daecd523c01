"""DVC parity: one example DVC pipeline (`dvc.yaml` + `params.yaml`, foreach, matrix, vars,
params, templated commands, outs in folders, metrics) run by `dvc repro` (DVC 3.67.1, from the
compat venv) and, in a copy, by `cairn pipeline run`: the same files, byte for byte.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from test_pipelines import cairn

pytestmark = pytest.mark.cairn_only  # runs Cairn's pipeline CLI beside DVC

DVC = Path(sys.executable).with_name("dvc")

DVC_YAML = """\
vars:
  - shards: [a, b, c]
stages:
  generate:
    foreach: ${shards}
    do:
      cmd: python3 gen.py ${item} ${gen.rows} ${gen.seed} raw/${item}.csv
      deps: [gen.py]
      params: [gen.rows, gen.seed]
      outs:
        - raw/${item}.csv
  scale:
    matrix:
      shard: ${shards}
      factor: [2, 3]
    cmd: python3 scale.py raw/${item.shard}.csv ${item.factor} scaled/${item.shard}-x${item.factor}.csv
    deps:
      - scale.py
      - raw/${item.shard}.csv
    outs:
      - scaled/${item.shard}-x${item.factor}.csv
  summarize:
    cmd: python3 summarize.py ${summary.title} scaled summary
    deps: [summarize.py, scaled]
    params: [summary]
    outs: [summary/report.txt]
    metrics:
      - summary/metrics.json:
          cache: false
"""

PARAMS = """\
gen:
  rows: 25
  seed: 7
summary:
  title: totals
  digits: 3
"""

SCRIPTS = {
    "gen.py": """\
        import random, sys
        shard, rows, seed, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
        rng = random.Random(f"{seed}-{shard}")
        with open(out, "w") as f:
            f.write("x\\n")
            for _ in range(rows):
                f.write(f"{rng.randint(0, 1000)}\\n")
        """,
    "scale.py": """\
        import os, sys
        source, factor, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
        os.makedirs(os.path.dirname(out), exist_ok=True)
        lines = open(source).read().split()[1:]
        open(out, "w").write("x\\n" + "".join(f"{int(v) * factor}\\n" for v in lines))
        """,
    "summarize.py": """\
        import json, os, sys, yaml
        title, folder, out = sys.argv[1], sys.argv[2], sys.argv[3]
        digits = yaml.safe_load(open("params.yaml"))["summary"]["digits"]
        totals = {name: sum(int(v) for v in open(os.path.join(folder, name)).read().split()[1:])
                  for name in sorted(os.listdir(folder))}
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "report.txt"), "w") as f:
            f.write(title + "\\n" + "".join(f"{k} {v}\\n" for k, v in totals.items()))
        mean = sum(totals.values()) / len(totals)
        json.dump({"mean": round(mean, digits), "files": len(totals)}, open(os.path.join(out, "metrics.json"), "w"))
        """,
}


def _files(root: Path) -> dict[str, str]:
    """Every file the pipeline wrote (relative path → sha256), without DVC's or Cairn's bookkeeping."""
    skip = {".dvc", "dvc.lock", "cairn.lock", ".dvcignore", ".gitignore"}
    found = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and relative.parts[0] not in skip and path.name != ".gitignore":
            found[str(relative)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def test_a_dvc_pipeline_gives_the_same_files_under_cairn_as_under_dvc_repro(server_url, tmp_path):
    if not DVC.exists():
        pytest.skip(f"dvc is not installed beside {sys.executable}")
    source = tmp_path / "source"
    source.mkdir()
    (source / "dvc.yaml").write_text(DVC_YAML)
    (source / "params.yaml").write_text(PARAMS)
    for name, text in SCRIPTS.items():
        (source / name).write_text(textwrap.dedent(text))
    (source / "raw").mkdir()
    dvc_dir, cairn_dir = tmp_path / "dvc", tmp_path / f"parity-{tmp_path.name}"
    shutil.copytree(source, dvc_dir)
    shutil.copytree(source, cairn_dir)
    before = _files(source)

    env = dict(os.environ, DVC_NO_ANALYTICS="1", PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    for command in (["init", "--no-scm"], ["repro"]):
        done = subprocess.run([str(DVC), *command], cwd=dvc_dir, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
    ran = cairn(server_url, "pipeline", "run", cwd=cairn_dir, timeout=600)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.count(": FINISHED") >= 3 + 6 + 1, ran.stdout

    by_dvc, by_cairn = _files(dvc_dir), _files(cairn_dir)
    made = set(by_dvc) - set(before)
    assert made == {"raw/a.csv", "raw/b.csv", "raw/c.csv", "summary/report.txt", "summary/metrics.json",
                    *(f"scaled/{s}-x{f}.csv" for s in "abc" for f in (2, 3))}, sorted(made)
    assert by_cairn == by_dvc
