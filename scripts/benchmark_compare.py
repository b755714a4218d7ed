#!/usr/bin/env python3
"""tensorlint beside the tools a user would otherwise run, on the same files, as whole-process medians (issue 13).

    python3 scripts/benchmark_compare.py [--tensorlint .build/release/tensorlint] [--python /tmp/peers/bin/python]
        [--runs 10] [--peer-runs 3] [--onnx-mb 1024] [--callgrind] [--work DIR] [--smoke]

Every input is generated into the work folder (never committed): N-block torch.export programs by
make_large_program.py (100, 1,000 in both layouts, 12,500 blocks), a big ONNX model by
make_large_onnx_model.py, and a folder of ~400 small archives (the shared synthetic corpus when present).
Each command is a child process: wall time from a nanosecond clock around it, user+sys CPU and peak RSS
from os.wait4's rusage; one warm-up run, then the medians of --runs (--peer-runs for the peers).
The tensorlint binary is copied into the work folder first, so a rebuild during the run changes nothing.

Peer columns (coremltools' is_torch_fx_node_supported over every node, ct.convert, onnx.checker's full
check, an onnxruntime session) run only with --python, an interpreter that has them; make one with

    python3 -m venv /tmp/peers && /tmp/peers/bin/pip install torch==2.13.0+cpu coremltools==9.0 onnx onnxruntime

(pip finds the torch CPU wheel in /opt/wheels here). A peer whose import fails is skipped with the reason.
--callgrind adds instruction counts (valgrind, on a copy stripped of its DWARF 5 debug info, which
valgrind 3.19 cannot read). --smoke (CI) uses tiny inputs and one run each, and fails only when
tensorlint itself crashes (an exit status other than 0 or 1), never because something is slow.
Standard library only.
"""
import argparse
import datetime
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CORPUS = os.path.join(ROOT, "..", "shared", "corpus", "synthetic-torch2.13", "models")
SMALL = os.path.join(CORPUS, "mobilenetv3_block.fp16.aten.pt2")
SMALL_FALLBACK = os.path.join(ROOT, "examples", "models", "leaky_relu.fp16.aten.pt2")
TORCH_LINT = ["lint", "--format", "sarif", "--minimum-deployment-target", "iOS16"]
ONNX_LINT = ["lint", "--target", "onnxruntime", "--format", "sarif"]

# Peers: each a `python -c` program given the model path; what it prints (one line) is shown as a note.
# coremltools' converter takes an ATEN program from torch.export.load as it is (no run_decompositions:
# _torchexport_from_spec only goes to EDGE for ExecuTorch), so the node check walks the loaded graph too.
FX_CHECK = """import sys, torch
from coremltools.converters.mil.frontend.torch import is_torch_fx_node_supported
ep = torch.export.load(sys.argv[1])
nodes = [n for n in ep.graph_module.graph.nodes if n.op == "call_function"]
print(f"{sum(map(is_torch_fx_node_supported, nodes))}/{len(nodes)} call_function nodes supported")"""
CT_CONVERT = """import sys, torch, coremltools as ct
try:
    ct.convert(torch.export.load(sys.argv[1]), minimum_deployment_target=ct.target.iOS16, convert_to="mlprogram")
    print("converted")
except Exception as error:  # an fp16 model may raise: the time until it does is still the cost
    print(f"raised {type(error).__name__}: {(str(error).splitlines() or [''])[0]}")"""
ONNX_CHECK = """import sys, onnx
onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)
print("check_model passed")"""
ORT_SESSION = """import sys, onnxruntime
onnxruntime.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
print("session created")"""


class Result:
    """Medians of one command's runs, or why it has none (`skipped`)."""

    def __init__(self, wall=0.0, cpu=0.0, rss=0.0, statuses=(), note="", skipped=""):
        self.wall, self.cpu, self.rss, self.statuses, self.note, self.skipped = wall, cpu, rss, statuses, note, skipped


def run_once(argv):
    """(wall ms, user+sys cpu ms, peak RSS MB, exit status) of one child process.

    A plain fork, not subprocess.Popen: Popen spawns with vfork, and Linux counts the resident set of
    the memory the child had when it called exec (with vfork: this process's, at its peak) in the child's
    ru_maxrss. After fork that is only what the copy has mapped (a few MB: this process stays small, the
    inputs are prepared in children); the header prints that floor, as the peak RSS of `true`.
    (SARIF reports go to /dev/null, never into this process, for the same reason.)"""
    start = time.perf_counter_ns()
    pid = os.fork()
    if pid == 0:
        try:
            null = os.open(os.devnull, os.O_RDWR)
            os.dup2(null, 1)
            os.dup2(null, 2)
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter_ns() - start
    return wall / 1e6, (usage.ru_utime + usage.ru_stime) * 1e3, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def measure(argv, runs, ok_statuses=(0, 1), keep_stdout=False):
    """One warm-up run (page cache; its stderr, and a peer's stdout, are kept for notes), then the medians of `runs`."""
    warm = subprocess.run(argv, stdout=subprocess.PIPE if keep_stdout else subprocess.DEVNULL, stderr=subprocess.PIPE)
    stdout = (warm.stdout or b"").decode(errors="replace").strip()
    stderr = warm.stderr.decode(errors="replace").strip()
    if warm.returncode not in ok_statuses:
        lines = stderr.splitlines() or stdout.splitlines() or [""]
        return Result(statuses=(warm.returncode,), note=stderr, skipped=f"exit {warm.returncode}: {lines[-1][:150]}")
    samples = [run_once(argv) for _ in range(runs)]
    return Result(*(statistics.median(column) for column in list(zip(*samples))[:3]),
                  statuses=(warm.returncode,) + tuple(s[3] for s in samples),
                  note=(stdout.splitlines() or [""])[-1][:110])


def nodes_of(path):
    """The serialized graph's node count of a torch.export archive."""
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if n.endswith(("models/model.json", "serialized_exported_program.json")))
        return len(json.loads(archive.read(name))["graph_module"]["graph"]["nodes"])


def make_loadable(path):
    """Let torch.export.load read an archive from make_example_models.py's stdlib writer, in place.

    The writer leaves its sample inputs a placeholder, marks single-output graphs is_single_tensor_return
    (torch writes false for a program's graph) and pickles a torch 2.7 state dict's parameters as plain
    tensors: torch refuses all three. The inputs become a torch.save zip of zero tensors of the program's
    input dtypes and shapes, the flag false, the state dict's tensors Parameters. tensorlint reads no
    pickle and its report is unchanged; both tools then read the same file."""
    with zipfile.ZipFile(path) as archive:
        entries = [(info, archive.read(info)) for info in archive.infolist()]
    program_entry = ("models/model.json", "serialized_exported_program.json")
    program = next(json.loads(data) for info, data in entries if info.filename.endswith(program_entry))
    graph_module = program["graph_module"]
    graph_module["graph"]["is_single_tensor_return"] = False
    inputs = []
    for spec in graph_module["signature"]["input_specs"]:
        if "user_input" in spec:
            meta = graph_module["graph"]["tensor_values"][spec["user_input"]["arg"]["as_tensor"]["name"]]
            shape = [size["as_int"] if "as_int" in size else size["as_expr"]["hint"]["as_int"] for size in meta["sizes"]]
            inputs.append((meta["dtype"], shape))
    with zipfile.ZipFile(path, "w") as archive:
        for info, data in entries:
            if data.startswith(b"PK placeholder"):
                data = torch_save_inputs(inputs)
            elif info.filename.endswith(program_entry):
                data = json.dumps(program, sort_keys=True).encode()
            elif info.filename == "serialized_state_dict.pt":
                data = state_dict_of_parameters(data)
            archive.writestr(info, data)


STORAGE = {5: ("LongStorage", 8), 6: ("HalfStorage", 2), 7: ("FloatStorage", 4), 12: ("BoolStorage", 1), 13: ("BFloat16Storage", 2)}
TENSOR = b"ctorch._utils\n_rebuild_tensor_v2\n("
TENSOR_END = b"\x89ccollections\nOrderedDict\n)RtR"  # requires_grad False, no hooks: the tensor is built


def torch_save_inputs(inputs):
    """torch.save((tuple of zero tensors, {})): the protocol-2 pickle torch writes, and one record per storage."""
    def text(value):
        return b"X" + len(value.encode()).to_bytes(4, "little") + value.encode()

    def integer(value):
        return b"J" + value.to_bytes(4, "little", signed=True)

    def ints(values):
        return b"(" + b"".join(map(integer, values)) + b"t"

    pickle, records = bytearray(b"\x80\x02("), []
    for key, (dtype, shape) in enumerate(inputs):
        strides, count = [], 1
        for size in reversed(shape):
            strides.insert(0, count)
            count *= size
        storage, width = STORAGE[dtype]
        pickle += TENSOR + b"(" + text("storage") + b"ctorch\n" + storage.encode() + b"\n" + text(str(key)) + text("cpu")
        pickle += integer(count) + b"tQ" + integer(0) + ints(shape) + ints(strides) + TENSOR_END
        records.append(bytes(count * width))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", bytes(pickle + b"t}\x86."))
        archive.writestr("archive/byteorder", b"little")
        for key, record in enumerate(records):
            archive.writestr(f"archive/data/{key}", record)
        archive.writestr("archive/version", b"3\n")
    return buffer.getvalue()


def state_dict_of_parameters(saved):
    """A torch.save'd state dict whose tensors become _rebuild_parameter(tensor, True, OrderedDict())."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(saved)) as old, zipfile.ZipFile(buffer, "w") as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename.endswith("data.pkl"):
                data = data.replace(TENSOR, b"ctorch._utils\n_rebuild_parameter\n(" + TENSOR)
                data = data.replace(TENSOR_END, TENSOR_END + b"\x88ccollections\nOrderedDict\n)RtR")
            new.writestr(info, data)
    return buffer.getvalue()


def generate(script, *arguments):
    subprocess.run([sys.executable, os.path.join(HERE, script), *map(str, arguments)], check=True, stdout=subprocess.DEVNULL)


def prepare(path):
    """make_loadable(path) and its node count, in a child (a 100,000-node program's JSON takes GBs)."""
    run = subprocess.run([sys.executable, os.path.abspath(__file__), "--prepare", path], check=True, capture_output=True, text=True)
    return int(run.stdout)


def callgrind(binary, arguments):
    """Instructions executed (Ir) by one run under callgrind, or None."""
    run = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", binary, *arguments],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    match = re.search(r"Collected : (\d+)", run.stderr) or re.search(r"I\s+refs:\s+([\d,]+)", run.stderr)
    return int(match.group(1).replace(",", "")) if match else None


def size_text(size):
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} KB"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tensorlint", default=os.path.join(ROOT, ".build", "release", "tensorlint"))
    parser.add_argument("--python", help="interpreter with torch, coremltools, onnx, onnxruntime: adds the peer columns")
    parser.add_argument("--runs", type=int, help="tensorlint runs per row (default 10; 1 with --smoke)")
    parser.add_argument("--peer-runs", type=int, help="peer runs per row (default 3; 1 with --smoke)")
    parser.add_argument("--onnx-mb", type=int, help="size of the big ONNX model (default 1024, 64 with --smoke; 0 skips)")
    parser.add_argument("--callgrind", action="store_true", help="add instruction counts (valgrind)")
    parser.add_argument("--work", help="scratch folder, kept (default: a temporary folder, removed)")
    parser.add_argument("--smoke", action="store_true", help="tiny inputs, one run each; fails only if tensorlint crashes")
    parser.add_argument("--prepare", help=argparse.SUPPRESS)  # internal: make_loadable(PATH), print its node count
    args = parser.parse_args()
    if args.prepare:
        make_loadable(args.prepare)
        print(nodes_of(args.prepare))
        return 0
    runs = args.runs or (1 if args.smoke else 10)
    peer_runs = args.peer_runs or (1 if args.smoke else 3)
    onnx_mb = args.onnx_mb if args.onnx_mb is not None else (64 if args.smoke else 1024)
    blocks = (10, 100, 250) if args.smoke else (100, 1000, 12500)
    folder_files = 40 if args.smoke else 400
    if not os.access(args.tensorlint, os.X_OK):
        sys.exit(f"benchmark_compare: no tensorlint binary at {args.tensorlint} (swift build -c release)")
    work = args.work or tempfile.mkdtemp(prefix="tensorlint-bench-")
    os.makedirs(work, exist_ok=True)
    try:
        return benchmark(args, work, runs, peer_runs, onnx_mb, blocks, folder_files)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


def benchmark(args, work, runs, peer_runs, onnx_mb, blocks, folder_files):
    binary = os.path.join(work, "tensorlint")
    shutil.copy2(args.tensorlint, binary)
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()

    # Peers: which modules import, and their versions.
    versions, missing = {}, {}
    for module in ("torch", "coremltools", "onnx", "onnxruntime") if args.python else ():
        probe = subprocess.run([args.python, "-c", f"import {module}; print({module}.__version__)"], capture_output=True, text=True)
        if probe.returncode == 0:
            versions[module] = probe.stdout.strip().splitlines()[-1]
        else:
            missing[module] = (probe.stderr.strip().splitlines() or ["no output"])[-1]

    # Inputs.
    inputs = {}  # key: (label, path, node count, description)
    small = SMALL if os.path.exists(SMALL) else SMALL_FALLBACK
    shutil.copyfile(small, os.path.join(work, os.path.basename(small)))
    small = os.path.join(work, os.path.basename(small))
    nodes = prepare(small)
    inputs["small"] = ("small fp16 .pt2", small, nodes, f"{os.path.basename(small)}, {size_text(os.path.getsize(small))}, {nodes} nodes")
    torch_rows = ["small"]
    for count in blocks:
        for layout in ("pt2", "torch27") if count == blocks[1] else ("pt2",):
            path = os.path.join(work, f"blocks{count}.fp16{'.torch27' if layout == 'torch27' else ''}.pt2")
            generate("make_large_program.py", count, path, "--layout", layout, "--dtype", "fp16")
            nodes = prepare(path)
            key = f"{count}" + ("" if layout == "pt2" else "/torch27")
            label = f"{count:,} blocks" + (", torch 2.7 layout" if layout == "torch27" else "")
            inputs[key] = (label, path, nodes, f"{size_text(os.path.getsize(path))}, {nodes:,} nodes")
            torch_rows.append(key)
    if os.path.isdir(CORPUS) and not args.smoke:
        folder = CORPUS
        files = [os.path.join(folder, name) for name in os.listdir(folder)]
    else:
        pool = sorted(os.path.join(CORPUS, n) for n in os.listdir(CORPUS)) if os.path.isdir(CORPUS) else []
        pool = pool or sorted(os.path.join(ROOT, "examples", "models", n) for n in os.listdir(os.path.join(ROOT, "examples", "models")) if n.endswith(".pt2"))
        folder = os.path.join(work, "folder")
        os.makedirs(folder, exist_ok=True)
        files = []
        for index in range(folder_files):
            source = pool[index % len(pool)]
            files.append(os.path.join(folder, f"{index:03d}-{os.path.basename(source)}"))
            shutil.copyfile(source, files[-1])
    folder_size = sum(os.path.getsize(f) for f in files)
    inputs["folder"] = ("folder", folder, None, f"{len(files)} archives, {size_text(folder_size)}")
    if onnx_mb:
        onnx = os.path.join(work, f"large{onnx_mb}.onnx")
        generate("make_large_onnx_model.py", onnx, onnx_mb)
        inputs["onnx"] = (f"{onnx_mb} MB ONNX", onnx, None, f"{size_text(os.path.getsize(onnx))}")

    # Header.
    cpu_model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    print(f"tensorlint {version} ({args.tensorlint}), {datetime.datetime.now().isoformat(timespec='seconds')}, "
          f"nproc {len(os.sched_getaffinity(0))} ({cpu_model})")
    if args.python:
        print("peers: " + (", ".join(f"{m} {v}" for m, v in versions.items()) or "none import") + f" ({args.python})")
        for module, reason in missing.items():
            print(f"peers: cannot import {module}: {reason}")
    else:
        print("peers: none (give --python)")
    print(f"medians of {runs} tensorlint runs, {peer_runs} peer runs, after one warm-up run each" + (" (smoke)" if args.smoke else "")
          + f"; peak RSS floor of the launcher (`true`): {run_once([shutil.which('true') or '/bin/true'])[2]:.1f} MB")
    print("inputs:")
    for label, _, _, description in inputs.values():
        print(f"  {label:<30} {description}")
    print()

    # Measurements: rows of (work, tool, Result, tensorlint Result of the row for ratios).
    rows, crashes = [], []

    def tensorlint(work_label, arguments):
        result = measure([binary, *arguments], runs)
        crashed = [s for s in result.statuses if s not in (0, 1)]
        if crashed and "--jobs" in arguments and crashed[0] in (2, 64) and "Unknown option" in result.note:
            result.skipped = "not supported by this binary"
        elif crashed:
            crashes.append(f"{work_label}: tensorlint {result.skipped or f'exit {crashed[0]} in a measured run'}")
            result.skipped = f"CRASHED (exit {crashed[0]})"
        rows.append((work_label, "tensorlint", result, None))
        return result

    def peer(work_label, tool, modules, code, path, reference):
        if not args.python:
            return
        absent = [m for m in modules if m in missing]
        result = Result(skipped=f"skipped: cannot import {', '.join(absent)}") if absent else measure(
            [args.python, "-c", code, path], peer_runs, ok_statuses=(0,), keep_stdout=True)
        rows.append((work_label, tool, result, reference))

    tensorlint("--version (start-up floor)", ["--version"])
    for key in torch_rows:
        label, path, _, _ = inputs[key]
        reference = tensorlint(f"lint {label}", [*TORCH_LINT, path])
        peer(f"lint {label}", "is_torch_fx_node_supported", ("torch", "coremltools"), FX_CHECK, path, reference)
        if key in ("small", str(blocks[0])) or (not args.smoke and key.startswith(str(blocks[1]))):
            peer(f"lint {label}", "ct.convert", ("torch", "coremltools"), CT_CONVERT, path, reference)
    tensorlint(f"folder of {len(files)}, --jobs 1", ["lint", "--format", "sarif", "--jobs", "1", folder])
    tensorlint(f"folder of {len(files)}, default jobs", ["lint", "--format", "sarif", folder])
    if onnx_mb:
        label, path, _, _ = inputs["onnx"]
        reference = tensorlint(f"lint {label}", [*ONNX_LINT, path])
        peer(f"lint {label}", "onnx.checker full_check", ("onnx",), ONNX_CHECK, path, reference)
        peer(f"lint {label}", "onnxruntime session", ("onnxruntime",), ORT_SESSION, path, reference)

    # Table.
    line = "{:<42} {:<28} {:>10} {:>10} {:>8} {:>9} {:>8}"
    print(line.format("work", "tool", "wall ms", "cpu ms", "RSS MB", "wall x", "RSS x"))
    previous = None
    for work_label, tool, result, reference in rows:
        shown = "" if work_label == previous else work_label
        previous = work_label
        if result.skipped:
            print(f"{shown:<42} {tool:<28} {result.skipped}".rstrip())
            continue
        ratios = ("", "")
        if reference is not None and not reference.skipped:
            ratios = tuple(f"{r:.0f}x" if r >= 10 else f"{r:.1f}x" for r in (result.wall / reference.wall, result.rss / reference.rss))
        print(line.format(shown, tool, f"{result.wall:.1f}", f"{result.cpu:.1f}", f"{result.rss:.1f}", *ratios).rstrip())
        if tool != "tensorlint" and result.note:
            print(f"{'':<42}   {result.note}")

    # Summaries.
    by_work = {w: r for w, t, r, _ in rows if t == "tensorlint" and not r.skipped}
    print()
    start_up, small_lint = by_work.get("--version (start-up floor)"), by_work.get(f"lint {inputs['small'][0]}")
    if start_up and small_lint:
        print(f"lint(small) / --version: {small_lint.wall / start_up.wall:.1f}x wall, {small_lint.cpu / max(start_up.cpu, 0.001):.1f}x cpu")
    sizes = [(inputs[str(b)][2], by_work.get(f"lint {inputs[str(b)][0]}")) for b in blocks]
    for (n0, r0), (n1, r1) in zip(sizes, sizes[1:]):
        if r0 and r1:
            print(f"scaling {n0:,} -> {n1:,} nodes: {(r1.wall - r0.wall) * 1e3 / (n1 - n0):.1f} us wall, "
                  f"{(r1.cpu - r0.cpu) * 1e3 / (n1 - n0):.1f} us cpu, {(r1.rss - r0.rss) * 1e3 / (n1 - n0):.2f} KB peak RSS per node")
    one, default = by_work.get(f"folder of {len(files)}, --jobs 1"), by_work.get(f"folder of {len(files)}, default jobs")
    if one and default:
        print(f"folder: --jobs 1 / default jobs = {one.wall / default.wall:.2f}x wall")

    if args.callgrind:
        print()
        if not (shutil.which("valgrind") and shutil.which("strip")):
            print("callgrind: skipped, valgrind or strip is missing")
        else:
            stripped = os.path.join(work, "tensorlint.stripped")
            subprocess.run(["strip", "-g", "-o", stripped, binary], check=True)
            print("callgrind: instructions (Ir) of one run, on a copy stripped of debug info")
            counts = {}
            for key, arguments in (("--version", ["--version"]), ("small", [*TORCH_LINT, inputs["small"][1]]),
                                   (str(blocks[0]), [*TORCH_LINT, inputs[str(blocks[0])][1]]),
                                   (str(blocks[1]), [*TORCH_LINT, inputs[str(blocks[1])][1]])):
                counts[key] = callgrind(stripped, arguments)
                label = key if key == "--version" else f"lint {inputs[key][0]}"
                print(f"  {label:<40} {counts[key]:>16,}" if counts[key] else f"  {label:<40} no count (valgrind failed)")
            n0, n1 = inputs[str(blocks[0])][2], inputs[str(blocks[1])][2]
            if counts[str(blocks[0])] and counts[str(blocks[1])]:
                print(f"  per node: (Ir({blocks[1]:,}) - Ir({blocks[0]:,})) / ({n1:,} - {n0:,}) = "
                      f"{(counts[str(blocks[1])] - counts[str(blocks[0])]) / (n1 - n0):,.0f} instructions")

    for crash in crashes:
        print(f"benchmark_compare: {crash}", file=sys.stderr)
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
