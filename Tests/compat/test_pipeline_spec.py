"""`cairn pipeline dag` reads a DVC pipeline as DVC itself does: for real `dvc.yaml` +
`params.yaml` projects (foreach over lists and dicts, matrix, vars from files and inline,
params, a mapping interpolated into `cmd`, wdir), the stage names, resolved commands,
paths and edges of `cairn pipeline dag --format json` equal what DVC's own resolver gives
(`dvc.repo.Repo(...).index`, the pinned `dvc` in requirements.txt); and specs DVC refuses,
Cairn refuses too, with `dvc.yaml:LINE:COLUMN:` in its one-line reason.

No server is started: `dag` needs only the spec.
"""

from __future__ import annotations

import json
import os
import posixpath
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from conftest import REPO_ROOT

dvc_repo = pytest.importorskip("dvc.repo", reason="dvc is pinned in Tests/compat/requirements.txt")
from dvc.dependency.param import ParamsDependency  # noqa: E402


def _binary() -> str:
    binary = Path(os.environ.get("CAIRN_BIN", ".build/debug/cairn"))
    return str(binary if binary.is_absolute() else REPO_ROOT / binary)


def _cairn(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([_binary(), *args], capture_output=True, text=True, cwd=cwd, timeout=60, stdin=subprocess.DEVNULL)


def _dvc(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dvc", *args], capture_output=True, text=True, cwd=cwd, timeout=120,
                          stdin=subprocess.DEVNULL)


@pytest.fixture
def project():
    path = Path(tempfile.mkdtemp(prefix="cairn-dvc-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))
    result = _dvc("init", "--no-scm", "-q", cwd=root)
    assert result.returncode == 0, result.stderr


def _norm(path: str) -> str:
    return posixpath.normpath(path).rstrip("/")


def _dvc_resolution(root: Path) -> dict:
    """Every stage as DVC resolves it, in DVC's order, with its upstream stages."""
    with dvc_repo.Repo(str(root)) as repo:
        stages = []
        graph = repo.index.graph
        for stage in repo.index.stages:
            wdir = os.path.relpath(stage.wdir, root)
            stages.append({
                "name": stage.name,
                "cmd": stage.cmd if isinstance(stage.cmd, list) else [stage.cmd],
                "wdir": "" if wdir == "." else wdir,
                "deps": [_norm(d.def_path) for d in stage.deps if not isinstance(d, ParamsDependency)],
                "params": sorted((_norm(d.def_path), tuple(sorted(d.params))) for d in stage.deps if isinstance(d, ParamsDependency) and d.params),
                "outs": sorted(_norm(o.def_path) for o in stage.outs),
                "upstream": sorted(s.name for s in graph.successors(stage)),
                "frozen": stage.frozen,
                "always_changed": stage.always_changed,
            })
        return {"stages": stages}


def _cairn_resolution(root: Path) -> dict:
    result = _cairn("pipeline", "dag", "--format", "json", str(root))
    assert result.returncode == 0, result.stderr
    stages = []
    for stage in json.loads(result.stdout)["stages"]:
        stages.append({
            "name": stage["name"],
            "cmd": stage["cmd"],
            "wdir": stage["wdir"],
            "deps": stage["deps"],
            # DVC lists the keys a `file:` entry takes as every key of the file only once read; compare named keys.
            "params": sorted((p["file"], tuple(sorted(p["keys"]))) for p in stage["params"] if p["keys"]),
            "outs": sorted(stage["outs"] + stage["metrics"] + stage["plots"]),
            "upstream": sorted(stage["upstream"]),
            "frozen": stage["frozen"],
            "always_changed": stage["always_changed"],
        })
    return {"stages": stages}


PARAMS = """\
prepare:
  split: 0.2
  seed: 20170428
train:
  n_est: 50
  min_split: 0.01
  args:
    epochs: 3
    name: my model
    verbose: true
    quiet: false
    layers: [1, two]
    opt: {lr: 0.001}
regions: [uk, us, de]
models:
  small: {size: 10, lr: 0.1}
  big: {size: 100, lr: 1.0e-5}
"""

PIPELINE = """\
vars:
  - config/extra.yaml:features
  - out_dir: results
    flag: true
stages:
  prepare:
    cmd: python src/prepare.py data/data.xml --split ${prepare.split} --seed ${prepare.seed}
    deps:
      - src/prepare.py
      - ./data/data.xml
    params:
      - prepare.seed
      - prepare.split
    outs:
      - data/prepared/
  featurize:
    foreach: ${regions}
    do:
      cmd: python src/featurize.py data/prepared ${item} --max ${features.max} --ngrams ${features.ngrams}
      deps: [data/prepared]
      outs: ["data/features/${item}"]
  train:
    foreach: ${models}
    do:
      wdir: src
      cmd:
        - python train.py --name ${key} --size ${item.size} --lr ${item.lr}
        - python log.py ${train.args}
      deps: [../data/features/uk]
      params:
        - ../params.yaml:
          - train.n_est
      outs:
        - ../models/${key}.pkl:
            cache: false
            desc: the ${key} model
  sweep:
    matrix:
      model: [small, big]
      opt: [{name: adam, lr: 0.1}, {name: sgd, lr: 0.01}]
      flag: [true, false]
    cmd: python sweep.py --model ${item.model} --opt ${item.opt.name} --lr ${item.opt.lr} --flag ${item.flag} ${key}
    deps: ["models/${item.model}.pkl"]
    metrics:
      - ${out_dir}/${key}.json:
          cache: false
  report:
    vars:
      - local: {title: "done"}
        n: 3
    cmd: echo ${n} ${flag} ${out_dir} "\\${not_a_var}"
    deps: [results]
    plots:
      - plots/summary.csv:
          x: step
          y: value
"""

SECOND_PARAMS = """\
{"sets": [{"name": "a", "rows": 10}, {"name": "b", "rows": 20}], "threshold": 0.5, "paths": {"raw": "raw"}}
"""

SECOND = """\
vars:
  - conf.json
stages:
  split:
    foreach: ${sets}
    do:
      wdir: work
      cmd: python split.py ${paths.raw}/${item.name}.csv --rows ${item.rows} --threshold ${threshold}
      deps: [../raw]
      outs: ["${item.name}"]
  combine:
    foreach:
      left: work/a
      right: work/b
    do:
      cmd: ["cat ${item}", "echo ${key}"]
      deps: ["${item}"]
      outs: ["combined/${key}.txt"]
"""


THIRD = """\
vars:
  - lrs: [0.1, 1.0e-5, 2, 100000.0]
    flags: [true, false]
    dirs: {a: sub}
    grid: [true]
stages:
  lr:
    foreach: ${lrs}
    do:
      cmd: python fit.py --lr ${item}
  flag:
    foreach: ${flags}
    do:
      cmd: echo ${item}
      always_changed: true
  inner:
    foreach: ${dirs}
    do:
      wdir: ${item}
      cmd: echo ${key} in ${item}
  literal:
    foreach: [true, 1.5]
    do:
      cmd: echo ${item}
  grid:
    matrix:
      on: ${grid}
      off: [false]
      both: ["${freeze}"]
    cmd: echo ${item.on} ${key}
  frozen:
    cmd: echo frozen ${freeze}
    frozen: true
  dict_item:
    foreach:
      - {epochs: 1, name: a b, tags: [x, y]}
    do:
      cmd: python t.py ${item}
"""


def test_dvc_pipelines_resolve_the_same_under_cairn(project):
    _write(project, {
        "params.yaml": PARAMS, "config/extra.yaml": "features: {max: 100, ngrams: 2}\nother: 1\n", "dvc.yaml": PIPELINE,
        "src/prepare.py": "", "data/data.xml": "<x/>",
    })
    dvc = _dvc_resolution(project)
    assert len(dvc["stages"]) == 1 + 3 + 2 + 8 + 1
    assert _cairn_resolution(project) == dvc
    # A check of the fixture itself: the interesting resolutions happened.
    by_name = {s["name"]: s for s in dvc["stages"]}
    assert by_name["train@big"]["cmd"][0] == "python train.py --name big --size 100 --lr 1e-05"
    assert by_name["train@big"]["cmd"][1] == (
        "python log.py --epochs 3 --name 'my model' --verbose --layers 1 two --opt.lr 0.001")
    assert "sweep@small-opt1-false" in by_name
    assert by_name["report"]["cmd"] == ['echo 3 true results "${not_a_var}"']


def test_a_second_pipeline_with_json_vars_and_dict_foreach(project):
    _write(project, {"conf.json": SECOND_PARAMS, "dvc.yaml": SECOND, "raw/a.csv": "x\n", "work/.keep": ""})
    dvc = _dvc_resolution(project)
    assert [s["name"] for s in dvc["stages"]] == ["split@0", "split@1", "combine@left", "combine@right"]
    assert _cairn_resolution(project) == dvc


def test_scalar_names_typed_values_and_a_mapping_item(project):
    _write(project, {"params.yaml": "freeze: true\n", "dvc.yaml": THIRD})
    dvc = _dvc_resolution(project)
    assert [s["name"] for s in dvc["stages"]] == [
        "lr@0.1", "lr@1e-05", "lr@2", "lr@100000.0", "flag@True", "flag@False", "inner@a", "literal@true", "literal@1.5",
        "grid@True-false-True", "frozen", "dict_item@0"]
    assert _cairn_resolution(project) == dvc


def test_dvcs_parsing_config_shapes_a_mapping_in_cmd(project):
    _write(project, {"params.yaml": PARAMS, "dvc.yaml": "stages:\n  s:\n    cmd: python log.py ${train.args}\n"})
    for key, value in (("parsing.bool", "boolean_optional"), ("parsing.list", "append")):
        assert _dvc("config", key, value, cwd=project).returncode == 0
    dvc = _dvc_resolution(project)
    assert dvc["stages"][0]["cmd"] == [
        "python log.py --epochs 3 --name 'my model' --verbose --no-quiet --layers 1 --layers two --opt.lr 0.001"]
    assert _cairn_resolution(project) == dvc


def test_dag_renders_dot_and_mermaid_with_dvcs_edges(project):
    _write(project, {
        "params.yaml": PARAMS, "config/extra.yaml": "features: {max: 100, ngrams: 2}\n", "dvc.yaml": PIPELINE,
        "src/prepare.py": "", "data/data.xml": "<x/>",
    })
    dot = _cairn("pipeline", "dag", "--format", "dot", cwd=project)
    assert dot.returncode == 0, dot.stderr
    edges = {line.strip().rstrip(";") for line in dot.stdout.splitlines() if "->" in line}
    with dvc_repo.Repo(str(project)) as repo:
        expected = {f'"{up.name}" -> "{stage.name}"' for stage, up in repo.index.graph.edges}
    assert edges == expected
    # Byte for byte what `dvc dag --dot` prints for the same project.
    dvc_dot = _dvc("dag", "--dot", cwd=project)
    assert dvc_dot.returncode == 0, dvc_dot.stderr
    assert dot.stdout.strip() == dvc_dot.stdout.strip()
    mermaid = _cairn("pipeline", "dag", "--format", "mermaid", str(project))
    assert mermaid.returncode == 0 and mermaid.stdout.startswith("flowchart TD\n")
    assert mermaid.stdout.count("-->") == len(expected)


# Specs DVC refuses (`dvc dag` fails): Cairn refuses each at load time, at the line named.
REFUSED = {
    "undefined variable": ("stages:\n  a:\n    cmd: echo ${nope}\n", 3),
    "bad template": ("vars:\n- a: {b: 1}\nstages:\n  a:\n    cmd: echo ${a..b}\n", 5),
    "list into cmd": ("vars:\n- l: [1, 2]\nstages:\n  a:\n    cmd: echo ${l}\n", 5),
    "var redefined": ("vars:\n- seed: 1\nstages:\n  a:\n    cmd: echo ${seed}\n", 2),
    "unknown stage key": ("stages:\n  a:\n    cmd: x\n    outz: [o]\n", 4),
    "foreach over a scalar": ("vars:\n- n: 3\nstages:\n  a:\n    foreach: ${n}\n    do:\n      cmd: x\n", 5),
    "cycle": ("stages:\n  a:\n    cmd: x\n    deps: [b.txt]\n    outs: [a.txt]\n  b:\n    cmd: y\n    deps: [a.txt]\n    outs: [b.txt]\n", 2),
    "one path written twice": ("stages:\n  a:\n    cmd: x\n    outs: [m.pkl]\n  b:\n    cmd: y\n    outs: [m.pkl]\n", 7),
    "overlapping outputs": ("stages:\n  a:\n    cmd: x\n    outs: [data]\n  b:\n    cmd: y\n    outs: [data/part.csv]\n", 7),
    "a stage reading its own output": ("stages:\n  a:\n    cmd: x\n    deps: [o]\n    outs: [o]\n", 4),
    "cmd and foreach keys mixed": ("stages:\n  a:\n    foreach: [1]\n    do:\n      cmd: x\n    cmd: y\n", 6),
}


@pytest.mark.parametrize("label", sorted(REFUSED))
def test_specs_dvc_refuses_cairn_refuses_at_their_line(project, label):
    spec, line = REFUSED[label]
    _write(project, {"dvc.yaml": spec, "params.yaml": "seed: 7\n"})
    dvc = _dvc("dag", cwd=project)
    assert dvc.returncode != 0, f"DVC accepted the '{label}' fixture:\n{dvc.stdout}"
    cairn = _cairn("pipeline", "dag", cwd=project)
    assert cairn.returncode != 0, cairn.stdout
    message = cairn.stderr.strip()
    assert f"{project}/dvc.yaml:{line}:" in message, message
    assert len(message.splitlines()) == 1, message
