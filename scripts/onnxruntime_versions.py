#!/usr/bin/env python3
"""onnxruntime knowledge and labels for every minor release users pin (1.18 to the newest).

    scripts/onnxruntime_versions.py install ROOT     # a venv and one folder per onnxruntime and onnx release
    scripts/onnxruntime_versions.py knowledge ROOT   # rules/knowledge/onnxruntime-*/ and onnx-*/ from them
    scripts/onnxruntime_versions.py label ROOT --corpus ../shared/corpus/onnx --out labels/onnxruntime/onnx-corpus.jsonl
    scripts/onnxruntime_versions.py score --linter .build/release/tensorlint --corpus ../shared/corpus/onnx \
        --labels labels/onnxruntime/onnx-corpus.jsonl [--versions 1.18.1 ...]

install: the newest patch release of each onnxruntime minor version from 1.18 on, and every onnx release
from 1.16 on, that pip finds for this Python, each in ROOT/<package>-<version> (installed with --no-deps
beside one venv, ROOT/venv, that holds their dependencies).

knowledge: runs scripts/generate_onnx_knowledge.py once in each of those environments and writes
  rules/knowledge/onnxruntime-<version>/cpu-kernels.jsonl  for every onnxruntime release;
  rules/knowledge/onnx-<version>/operator-schemas.jsonl    for the onnx release each was built with.
The onnx release of an onnxruntime build is found, not assumed: it is the release whose schema registry is
nearest to the one onnxruntime carries (get_all_operator_schema; the newest such release when patch releases
tie). The newest table of each kind is written whole; every older one as a delta on the next newer
(header keys "base" and "removed", then only the operator lines that differ), so that a release adds
kilobytes, not a whole table. attribute-types.yml, curated, is copied from the newest onnx folder.

label: InferenceSession(path, providers=["CPUExecutionProvider"]) on every model of the corpus (a folder with
models/ and *.jsonl cases, as ../shared/corpus/onnx or what scripts/make_onnxruntime_family_models.py writes), in
each release's environment. One line per case, holding each distinct label with the releases that gave it:
verdict, and for failures the start of the error and the op and node it names (the corpus's label fields).

score: for each release, eval/score.py over the corpus's models with that release's labels, passing
--converter-version; prints one summary line per release.
"""
import argparse
import concurrent.futures
import glob
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
KNOWLEDGE = os.path.join(REPO, "rules", "knowledge")
OLDEST_RUNTIME = (1, 18)
OLDEST_ONNX = (1, 16)
# What the releases need besides themselves; numpy 1.x, which the oldest releases were built against, also
# serves the newest.
DEPENDENCIES = ["numpy<2", "protobuf", "flatbuffers", "packaging", "sympy", "coloredlogs"]


def version_key(text):
    return tuple(int(part) for part in text.split("."))


def available(package, python):
    out = subprocess.run([python, "-m", "pip", "index", "versions", package], capture_output=True, text=True, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("Available versions:"))
    return [v.strip() for v in line.split(":", 1)[1].split(",") if re.fullmatch(r"\d+\.\d+\.\d+", v.strip())]


def newest_per_minor(versions, oldest):
    chosen = {}
    for version in versions:
        key = version_key(version)
        if key[:2] >= oldest and key > version_key(chosen.get(key[:2], "0.0.0")):
            chosen[key[:2]] = version
    return sorted(chosen.values(), key=version_key)


def installed(root, package):
    folders = glob.glob(os.path.join(root, package + "-*"))
    return sorted((os.path.basename(f)[len(package) + 1:] for f in folders), key=version_key)


def install(args):
    venv = os.path.join(args.root, "venv")
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    subprocess.run([python, "-m", "pip", "install", "--quiet"] + DEPENDENCIES, check=True)
    runtimes = newest_per_minor(available("onnxruntime", python), OLDEST_RUNTIME)
    onnx_releases = [v for v in available("onnx", python) if version_key(v)[:2] >= OLDEST_ONNX]
    wanted = [("onnxruntime", v) for v in runtimes] + [("onnx", v) for v in onnx_releases]

    def one(item):
        package, version = item
        target = os.path.join(args.root, "%s-%s" % (package, version))
        if not os.path.exists(target):
            subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--target", target,
                            "%s==%s" % (package, version)], check=True)
        return target

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for target in pool.map(one, wanted):
            print("installed", target)


def python_of(root, package, version):
    """The command and environment that run Python with one installed release importable."""
    env = dict(os.environ, PYTHONPATH=os.path.join(root, "%s-%s" % (package, version)), OMP_NUM_THREADS="1")
    return [os.path.join(root, "venv", "bin", "python")], env


def run_in(root, package, version, argv, **kwargs):
    command, env = python_of(root, package, version)
    return subprocess.run(command + argv, env=env, **kwargs)


def dumps(root, package):
    """Each installed release's tables, from generate_onnx_knowledge.py --dump run in its environment."""
    tables = {}
    with tempfile.TemporaryDirectory() as scratch:
        for version in installed(root, package):
            path = os.path.join(scratch, version + ".json")
            run_in(root, package, version, [os.path.join(HERE, "generate_onnx_knowledge.py"), "--dump", package, path], check=True)
            with open(path, encoding="utf-8") as handle:
                tables[version] = json.load(handle)
    return tables


def built_with(runtime, releases):
    """The onnx release whose registry differs least from onnxruntime's (the newest of a tie)."""
    signature = set(runtime["signature"])
    return min(releases, key=lambda v: (len(signature ^ set(releases[v]["signature"])), [-n for n in version_key(v)]))


def write_chain(kind, tables, table, row_key, file_name):
    """tables: version -> full data, newest last. Writes the newest whole and the others as deltas."""
    from generate_onnx_knowledge import write  # noqa: E402 (the script's own writer)
    versions = sorted(tables, key=version_key)
    for index, version in enumerate(versions):
        data = dict(tables[version])
        path = os.path.join(KNOWLEDGE, "%s-%s" % (kind, version), file_name)
        if index + 1 < len(versions):
            base_version = versions[index + 1]
            base = tables[base_version][table]
            rows = {(d, op): r for d, ops in data[table].items() for op, r in ops.items()}
            base_rows = {(d, op): r for d, ops in base.items() for op, r in ops.items()}
            data["base"] = "%s-%s" % (kind, base_version)
            data["removed"] = sorted([d, op] for (d, op) in base_rows if (d, op) not in rows)
            changed = {}
            for (d, op), r in sorted(rows.items()):
                if base_rows.get((d, op)) != r:
                    changed.setdefault(d, {})[op] = r
            data[table] = changed
        write(path, data, table, row_key)


def knowledge(args):
    sys.path.insert(0, HERE)
    runtimes = dumps(args.root, "onnxruntime")
    releases = dumps(args.root, "onnx")
    pairing = {version: built_with(data, releases) for version, data in runtimes.items()}
    for version in sorted(runtimes, key=version_key):
        print("onnxruntime %s: built with onnx %s" % (version, pairing[version]))
    for kind in ("onnxruntime", "onnx"):
        for folder in glob.glob(os.path.join(KNOWLEDGE, kind + "-*")):
            if kind == "onnx" and os.path.basename(folder) == "onnx-%s" % max(pairing.values(), key=version_key):
                continue  # keeps attribute-types.yml, curated
            for path in glob.glob(os.path.join(folder, "*.jsonl")):
                os.remove(path)
    kernels = {}
    for version, data in runtimes.items():
        table = data["kernels"]
        table["onnx_knowledge"] = "onnx-%s" % pairing[version]
        kernels[version] = {key: table[key] for key in ["generator", "onnxruntime_version", "onnx_knowledge", "execution_provider",
                                                          "newest_supported_opset", "registered_domains", "kernels"]}
    write_chain("onnxruntime", kernels, "kernels", "kernels", "cpu-kernels.jsonl")
    used = {v: releases[v]["schemas"] for v in set(pairing.values())}
    write_chain("onnx", used, "schemas", "versions", "operator-schemas.jsonl")
    newest = os.path.join(KNOWLEDGE, "onnx-%s" % max(used, key=version_key))
    for version in used:
        folder = os.path.join(KNOWLEDGE, "onnx-%s" % version)
        if folder != newest:
            shutil.copy(os.path.join(newest, "attribute-types.yml"), folder)
    for folder in glob.glob(os.path.join(KNOWLEDGE, "onnx*-*")):
        if not glob.glob(os.path.join(folder, "*.jsonl")):
            shutil.rmtree(folder)


# The op and node an onnxruntime error names (the patterns of the corpus's own labelling script).
NODE_PATTERNS = [
    (re.compile(r"implementation for (\w+)\(\d+\) node with name '([^']*)'"), ("op", "node")),
    (re.compile(r"(?:Optype|operator) \((\w+)\)[^\n]*?in node \(([^)]*)\)"), ("op", "node")),
    (re.compile(r"In Node, \(\"([^\"]*)\", (\w+),"), ("node", "op")),
    (re.compile(r"Node \(([^)]*)\) Op \((\w+)\)"), ("node", "op")),
    (re.compile(r"of node \(([^)]*)\)"), ("node",)),
    (re.compile(r"in node \(([^)]*)\)"), ("node",)),
    (re.compile(r"Node:([^ \n]+) Output:"), ("node",)),
    (re.compile(r"[Nn]ode \(([^)]*)\)"), ("node",)),
    (re.compile(r"node ([^ \n]+) of type (\w+)"), ("node", "op")),
    (re.compile(r"Optype \((\w+)\)"), ("op",)),
    (re.compile(r"\bOp \((\w+)\)"), ("op",)),
    (re.compile(r"(?:^|: )[\w.]+:(\w+)\(-?\d+\) is not a registered function/op"), ("op",)),
]

WORKER = r"""
import json, sys
import onnxruntime
for line in sys.stdin:
    path = line.rstrip("\n")
    try:
        onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        result = {"verdict": "ok"}
    except Exception as error:
        result = {"verdict": "fails", "error": (str(error).strip().splitlines() or [type(error).__name__])[0],
                  "full": str(error)[:4000]}
    print(json.dumps(result), flush=True)
"""


def op_and_node(message, nodes):
    found = {}
    for pattern, names in NODE_PATTERNS:
        match = pattern.search(message)
        if match:
            for name, value in zip(names, match.groups()):
                found.setdefault(name, value)
            if "op" in found and "node" in found:
                break
    if "node" in found and "op" not in found:
        ops = {op for node, op in nodes if node == found["node"]}
        if len(ops) == 1:
            found["op"] = ops.pop()
    return found.get("op"), found.get("node")


def model_nodes(path):
    import onnx
    try:
        model = onnx.load(path, load_external_data=False)
    except Exception:  # noqa: BLE001 (a model onnx cannot read names no node)
        return []
    nodes = []

    def walk(graph_nodes):
        for node in graph_nodes:
            nodes.append((node.name, node.op_type))
            for attribute in node.attribute:
                if len(attribute.g.node):
                    walk(attribute.g.node)
                for graph in attribute.graphs:
                    walk(graph.node)

    walk(model.graph.node)
    for function in model.functions:
        walk(function.node)
    return nodes


def label_release(root, version, corpus, cases, timeout):
    """One worker process for the release, fed one model a line; restarted after a model that kills it."""
    results = {}
    pending = list(cases)
    while pending:
        command, env = python_of(root, "onnxruntime", version)
        worker = subprocess.Popen(command + ["-c", WORKER], env=env, cwd=corpus,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        while pending:
            case = pending.pop(0)
            worker.stdin.write(case["file"].encode() + b"\n")
            worker.stdin.flush()
            ready, _, _ = select.select([worker.stdout], [], [], timeout)
            line = worker.stdout.readline() if ready else b""
            if not line:
                if not ready:
                    worker.kill()
                    error = "onnxruntime.InferenceSession did not return within %ds" % timeout
                else:
                    error = "process died (exit/signal %s) while loading" % worker.wait()
                results[case["id"]] = {"verdict": "fails", "error": error}
                worker.kill()
                worker.wait()
                break
            results[case["id"]] = json.loads(line)
        else:
            worker.stdin.close()
            worker.wait()
    return results


def label(args):
    cases = []
    for path in sorted(glob.glob(os.path.join(args.corpus, "*.jsonl"))):
        with open(path, encoding="utf-8") as handle:
            cases += [json.loads(line) for line in handle if line.strip()]
    cases = [case for case in cases if case.get("target") == "onnxruntime"]
    versions = args.versions or installed(args.root, "onnxruntime")
    nodes = {}
    by_case = {case["id"]: {} for case in cases}  # id -> label row (JSON) -> versions
    for version in versions:
        results = label_release(args.root, version, args.corpus, cases, args.timeout)
        for case in cases:
            result = results[case["id"]]
            row = {"verdict": result["verdict"]}
            if result["verdict"] == "fails":
                row["error"] = result["error"][:args.error_chars]
                if case["file"] not in nodes:
                    nodes[case["file"]] = model_nodes(os.path.join(args.corpus, case["file"]))
                op, node = op_and_node(result.get("full", result["error"]), nodes[case["file"]])
                if op:
                    row["onnx_op"] = op
                if node:
                    row["node"] = node
            by_case[case["id"]].setdefault(json.dumps(row, sort_keys=True), []).append(version)
        print("onnxruntime %s: %d cases, %d fail" % (version, len(cases), sum(r["verdict"] == "fails" for r in results.values())), flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as handle:
        handle.write(json.dumps({"oracle": {"tool": "onnxruntime", "versions": versions},
                                 "corpus": os.path.basename(os.path.normpath(args.corpus)),
                                 "call": "onnxruntime.InferenceSession(file, providers=[\"CPUExecutionProvider\"])"}) + "\n")
        for case in cases:
            rows = [dict(json.loads(row), versions=release_ranges(found, versions)) for row, found in by_case[case["id"]].items()]
            handle.write(json.dumps({"id": case["id"], "labels": rows}) + "\n")
    print("wrote", os.path.relpath(args.out, REPO))


def release_ranges(found, versions):
    """["1.18.1", "1.19.2", "1.20.1", "1.32.0"] of the labelled releases -> "1.18.1..1.20.1,1.32.0"."""
    runs, start = [], None
    for index, version in enumerate(versions + [None]):
        if version in found and start is None:
            start = index
        elif version not in found and start is not None:
            runs.append(versions[start] if index - 1 == start else "%s..%s" % (versions[start], versions[index - 1]))
            start = None
    return ",".join(runs)


def releases_in(ranges, versions):
    """The inverse of release_ranges."""
    found = set()
    for run in ranges.split(","):
        first, _, last = run.partition("..")
        found.update(versions[versions.index(first):versions.index(last or first) + 1])
    return found


def score(args):
    with open(args.labels, encoding="utf-8") as handle:
        header, *cases = [json.loads(line) for line in handle if line.strip()]
    originals = {}
    for path in glob.glob(os.path.join(args.corpus, "*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    case = json.loads(line)
                    originals[case["id"]] = case
    status = 0
    for version in header["oracle"]["versions"]:
        if args.versions and version not in args.versions:
            continue
        with tempfile.TemporaryDirectory() as scratch:
            os.symlink(os.path.abspath(os.path.join(args.corpus, "models")), os.path.join(scratch, "models"))
            with open(os.path.join(scratch, "labels.jsonl"), "w", encoding="utf-8") as out:
                for labelled in cases:
                    row = next(row for row in labelled["labels"]
                               if version in releases_in(row["versions"], header["oracle"]["versions"]))
                    case = {key: value for key, value in originals[labelled["id"]].items()
                            if key not in ("verdict", "error", "error_type", "onnx_op", "node")}
                    case.update({key: value for key, value in row.items() if key != "versions"})
                    case["oracle"] = {"tool": "onnxruntime", "version": version}
                    out.write(json.dumps(case) + "\n")
            command = [sys.executable, args.score, "--linter", args.linter, "--corpus", scratch, "--jobs", str(args.jobs)]
            if args.min_right:
                command += ["--min-right", str(args.min_right)]
            if args.json:
                command += ["--json", "%s-%s.json" % (args.json, version)]
            result = subprocess.run(command + ["--", "--converter-version", version], capture_output=True, text=True)
            lines = result.stdout.strip().splitlines()
            print("onnxruntime %s: %s" % (version, lines[-1] if lines else result.stderr.strip()[-300:]), flush=True)
            status = max(status, result.returncode)
    return status


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("install", "knowledge", "label"):
        command = commands.add_parser(name)
        command.add_argument("root", help="folder of the installed releases")
        if name == "label":
            command.add_argument("--corpus", required=True)
            command.add_argument("--versions", nargs="*")
            command.add_argument("--timeout", type=float, default=120)
            command.add_argument("--out", required=True, help="the label file to write")
            command.add_argument("--error-chars", type=int, default=100, help="error text kept per label")
    command = commands.add_parser("score")
    command.add_argument("--linter", required=True)
    command.add_argument("--corpus", required=True)
    command.add_argument("--score", default=os.path.join(REPO, "..", "shared", "eval", "score.py"))
    command.add_argument("--versions", nargs="*")
    command.add_argument("--labels", required=True, help="the label file (written by label)")
    command.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    command.add_argument("--min-right", type=float)
    command.add_argument("--json", help="PREFIX: score.py's per-case results of each release to PREFIX-<version>.json")
    args = parser.parse_args()
    sys.exit({"install": install, "knowledge": knowledge, "label": label, "score": score}[args.command](args) or 0)


if __name__ == "__main__":
    main()
