#!/usr/bin/env python3
"""Hostile files, one per attack family, and the check that tensorlint survives each of them.

    python3 scripts/hostile_files.py make FOLDER                # writes one sub-folder per case
    python3 scripts/hostile_files.py check --tensorlint PATH    # makes them in a scratch folder and runs them

`check` runs `tensorlint lint` (and, where the case says, `fix -o` into an `out/` folder) on each case under
a 60 s timeout and a 4 GiB address-space limit, and measures each run's peak RSS. A case passes when the run
ends as the case expects (exit 2 with one line naming the file; a verdict for a valid model; a finding of a
named rule; a verdict from lint, which reads no weights, and exit 2 from fix, which copies them), within 60 s and 1 GiB, with nothing written outside `out/` and no output larger
than twice the input plus 1 MiB (or what the case's fix is known to add). It prints one row per case and exits 1 when any case fails.

Standard library only; the ONNX and torch.export builders are those of the example scripts.
"""
import argparse
import io
import json
import os
import resource
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_example_models as torch_export  # noqa: E402
import make_example_onnx_models as onnx  # noqa: E402

EXAMPLES = os.path.join(HERE, "..", "examples", "models")
TIMEOUT = 60
MEMORY_LIMIT = 4 << 30
RSS_LIMIT_KB = 1 << 20


def entry(archive, name, data, method=zipfile.ZIP_STORED):
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = method
    archive.writestr(info, data)


def example(name):
    with open(os.path.join(EXAMPLES, name), "rb") as handle:
        return handle.read()


def rezip(data, replace=lambda name, content: content, extra=()):
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = replace(info.filename, source.read(info.filename))
            if content is not None:
                entry(target, info.filename, content)
        for name, content in extra:
            entry(target, name, content)
    return out.getvalue()


def program_of(data):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        name = next(n for n in archive.namelist() if n.endswith("models/model.json"))
        return name, json.loads(archive.read(name))


def with_program(data, change):
    name, program = program_of(data)
    change(program)
    return rezip(data, lambda n, c: json.dumps(program).encode() if n == name else c)


def central_records(data):
    """Offsets of each central-directory record's signature."""
    end = data.rfind(b"PK\x05\x06")
    offset = struct.unpack_from("<I", data, end + 16)[0]
    records = []
    while data[offset:offset + 4] == b"PK\x01\x02":
        records.append(offset)
        name, extra, comment = struct.unpack_from("<HHH", data, offset + 28)
        offset += 46 + name + extra + comment
    return records


def patch(data, offset, fmt, value):
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, value)
    return bytes(out)


PT2 = "leaky_relu.fp16.aten.pt2"
LEGACY_PT2 = "linear.bf16.torch27.pt2"


# ---- the cases: name → (family, files {relative path: bytes or a callable(folder)}, model, expectation, run fix) ----
def cases():
    pt2 = example(PT2)
    legacy = example(LEGACY_PT2)
    onnx_model = example("add_fp16_fp32_initializer.onnx")
    found = []

    def case(name, family, files, expect, model=None, fix=True, names=None, open_because=None, lint_args=(), growth=2):
        """`names`: the file the one line must name (the model by default); `open_because`: a known gap, shown
        as OPEN and not counted as a failure, so that the table stays honest until it is closed."""
        model = model or next(iter(files))
        found.append(dict(name=name, family=family, files=files, expect=expect, model=model, fix=fix,
                          names=names or model, open_because=open_because, lint_args=list(lint_args), growth=growth))

    # -- zip container
    records = central_records(pt2)
    end = pt2.rfind(b"PK\x05\x06")
    zip64 = pt2[:end] + b"PK\x06\x06" + struct.pack("<QHHIIQQQQ", 44, 45, 45, 0, 0, 8, 8, len(pt2) - end, 1 << 63) + \
        b"PK\x06\x07" + struct.pack("<IQI", 0, end, 1) + b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    case("zip64-offset-2^63", "zip", {"model.pt2": zip64}, "exit2")
    program_record = next(r for r in records if pt2[r + 46:r + 46 + struct.unpack_from("<H", pt2, r + 28)[0]].endswith(b"model.json"))
    case("crc-wrong-on-program", "zip", {"model.pt2": patch(pt2, program_record + 16, "<I", 0x12345678)}, "exit2")
    weights = legacy
    weight_record = next(r for r in central_records(weights)
                         if weights[r + 46:r + 46 + struct.unpack_from("<H", weights, r + 28)[0]] == b"serialized_state_dict.pt")
    # lint reads the program, never the weights (their CRC is checked by what reads them: fix, and torch).
    case("crc-wrong-on-weights", "zip", {"model.pt2": patch(weights, weight_record + 16, "<I", 0x12345678)}, "verdict-fix-exit2")
    renamed = bytearray(pt2)
    local = struct.unpack_from("<I", pt2, program_record + 42)[0]
    renamed[local + 30] ^= 0x20  # the local header's name differs from the central directory's
    case("local-and-central-names-differ", "zip", {"model.pt2": bytes(renamed)}, "exit2")
    case("compressed-size-lies", "zip", {"model.pt2": patch(pt2, program_record + 20, "<I", struct.unpack_from("<I", pt2, program_record + 20)[0] + 7)}, "exit2")
    broken_record = bytearray(pt2)
    broken_record[records[2]:records[2] + 4] = b"XXXX"
    case("damaged-central-record", "zip", {"model.pt2": bytes(broken_record)}, "exit2")
    count_wraps = patch(pt2, end + 8, "<H", len(records) - 3)
    count_wraps = patch(count_wraps, end + 10, "<H", len(records) - 3)
    case("entry-count-short", "zip", {"model.pt2": count_wraps}, "exit2")
    # One deflated 64 MiB entry named by many central records: a bomb for anything that copies each record.
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w") as archive:
        with zipfile.ZipFile(io.BytesIO(pt2)) as source:
            for name in source.namelist():
                entry(archive, name, source.read(name))
        entry(archive, "leaky_relu.fp16.aten/data/weights/zeros", bytes(64 << 20), zipfile.ZIP_DEFLATED)
    bomb = bomb.getvalue()
    last = central_records(bomb)[-1]
    record = bomb[last:bomb.rfind(b"PK\x05\x06")]
    end_bomb = bomb.rfind(b"PK\x05\x06")
    copies = 200
    tail = bomb[end_bomb:]
    directory_offset = struct.unpack_from("<I", tail, 16)[0]
    directory = bomb[directory_offset:end_bomb]
    shared = [directory] + [record.replace(b"weights/zeros", b"weights/z%04d" % i) for i in range(copies)]
    new_directory = b"".join(shared)
    entries = len(central_records(bomb)) + copies
    bomb = bomb[:directory_offset] + new_directory + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, entries, entries, len(new_directory), directory_offset, 0)
    case("records-sharing-one-deflated-entry", "zip", {"model.pt2": bomb}, "exit2")
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w") as archive:
        with zipfile.ZipFile(io.BytesIO(pt2)) as source:
            for name in source.namelist():
                entry(archive, name, source.read(name))
        for index in range(150_000):
            entry(archive, f"leaky_relu.fp16.aten/extra/{index}", b"")
    case("150k-entries", "zip", {"model.pt2": many.getvalue()}, "verdict")

    # -- program JSON
    def set_path(path, value):
        def change(program):
            target = program
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
        return change
    for label, path, value in [
        ("dtype-as-string", ("graph_module", "graph", "tensor_values", "x", "dtype"), "float16"),
        ("dtype-2^64", ("graph_module", "graph", "tensor_values", "x", "dtype"), 1 << 64),
        ("dtype-negative", ("graph_module", "graph", "tensor_values", "x", "dtype"), -1),
        ("dtype-true", ("graph_module", "graph", "tensor_values", "x", "dtype"), True),
        ("tensor-values-missing", ("graph_module", "graph", "tensor_values"), None),
        ("nodes-as-object", ("graph_module", "graph", "nodes"), {"a": 1}),
        ("inputs-as-string", ("graph_module", "graph", "inputs"), "x"),
        ("sizes-overflow", ("graph_module", "graph", "tensor_values", "x", "sizes"), [{"as_int": 1 << 62}, {"as_int": 1 << 62}]),
    ]:
        case(f"program-{label}", "json", {"model.pt2": with_program(pt2, set_path(path, value))}, "exit2")
    case("program-20M-element-unused-array", "json", {"model.pt2": with_program(pt2, lambda p: p.update(unused=[0] * 20_000_000))}, "verdict")
    deep = "[" * 100_000 + "]" * 100_000
    name, _ = program_of(pt2)
    case("program-nested-100k-deep", "json", {"model.pt2": rezip(pt2, lambda n, c: deep.encode() if n == name else c)}, "exit2")

    def chain(op, count, extra_args=()):
        """A torch 2.8+ archive of `count` `op` nodes, each taking the one before."""
        program = torch_export.Program(f"{op}_chain")
        previous = program.user_input("x", "fp32", [1, 4])
        for index in range(count):
            program.node(f"torch.ops.aten.{op}.default", [("self", previous), *extra_args], [(f"{op}_{index}", "fp32", [1, 4])])
            previous = f"{op}_{index}"
        program.output(previous)
        with tempfile.TemporaryDirectory() as folder:
            torch_export.save(program, os.path.join(folder, f"{op}_chain.pt2"), False)
            with open(os.path.join(folder, f"{op}_chain.pt2"), "rb") as handle:
                return handle.read()
    # rewrite-op puts five nodes, with the metadata of the one they replace, in place of each celu.
    case("20k-rewritten-torch-nodes", "json", {"model.pt2": chain("celu", 20_000, [("alpha", 1.0)])}, "finding:coreml-unsupported-op", growth=6)
    # Honest but large programs: memory must stay proportional to what is kept, not to the text.
    case("200k-node-program", "json", {"model.pt2": chain("relu", 200_000)}, "verdict", fix=False)
    def add_values(program):
        values = program["graph_module"]["graph"]["tensor_values"]
        template = next(iter(values.values()))
        for index in range(1_000_000):
            values[f"unused_{index}"] = template
    case("1M-tensor-values", "json", {"model.pt2": with_program(pt2, add_values)}, "verdict", fix=False)
    case("10M-element-sizes", "json", {"model.pt2": with_program(pt2, set_path(("graph_module", "graph", "tensor_values", "x", "sizes"),
                                                                             [{"as_int": 1}] * 10_000_000))}, "verdict", fix=False)
    truncated_nested = rezip(legacy, lambda n, c: c[: len(c) // 2] if n == "serialized_state_dict.pt" else c)
    case("nested-state-dict-truncated", "zip", {"model.pt2": truncated_nested}, "exit2")

    # -- pickles
    os_system = b"cposix\nsystem\nX\n\x00\x00\x00echo pwned\x85R"
    case("pickle-os-system-in-weights", "pickle", {"model.pt2": example("linear.fp32.os_system.torch27.pt2")}, "finding:unsafe-pickle-global")
    case("pickle-os-system-torchscript", "pickle", {"model.pt": example("os_system.fp32.pt")}, "finding:unsafe-pickle-global")
    appends = b"\x80\x02]" + b"K\x00a" * 2_000_000 + b"."
    case("pickle-quadratic-appends", "pickle", {"model.pt": rezip(example("linear.fp32.pt"), lambda n, c: appends if n.endswith("/data.pkl") else c)}, "exit2")
    nested_bomb = io.BytesIO()
    with zipfile.ZipFile(nested_bomb, "w") as archive:
        with zipfile.ZipFile(io.BytesIO(legacy)) as source, zipfile.ZipFile(io.BytesIO(source.read("serialized_state_dict.pt"))) as inner:
            state = io.BytesIO()
            with zipfile.ZipFile(state, "w") as rebuilt:
                for name in inner.namelist():
                    entry(rebuilt, name, inner.read(name))
                entry(rebuilt, "archive/data/bomb", bytes(512 << 20), zipfile.ZIP_DEFLATED)
            for name in source.namelist():
                entry(archive, name, state.getvalue() if name == "serialized_state_dict.pt" else source.read(name))
    case("zip-bomb-in-nested-state-dict", "pickle", {"model.pt2": nested_bomb.getvalue()}, "verdict-fix-exit2")

    # -- ONNX
    local_import = onnx.bytes_field(9, onnx.bytes_field(1, "local") + onnx.int_field(2, 1))
    def onnx_with(initializers, nodes=None, inputs=None, outputs=None, **model_args):
        nodes = nodes if nodes is not None else [onnx.node("Add", ["x", "w"], ["y"])]
        graph = onnx.graph(nodes, inputs or [("x", onnx.FLOAT, [4, 4])], outputs or [("y", onnx.FLOAT, [4, 4])], initializers=initializers)
        return onnx.model(graph, **model_args)
    for label, location in (("absolute", "/etc/passwd"), ("dot-dot", "../../../../etc/passwd")):
        case(f"external-data-{label}", "onnx", {"model.onnx": onnx_with([onnx.tensor("w", onnx.FLOAT, [4, 4], external=(location, 0, 64))])},
             "finding:ort-external-data-unavailable")
    case("external-data-through-symlink", "onnx",
         {"model.onnx": onnx_with([onnx.tensor("w", onnx.FLOAT, [4, 4], external=("link/passwd", 0, 64))]), "link": ("symlink", "/etc")},
         "finding:ort-external-data-unavailable")
    case("external-data-fifo", "onnx",
         {"model.onnx": onnx_with([onnx.tensor("w", onnx.FLOAT, [4, 4], external=("weights.bin", 0, 64))]), "weights.bin": ("fifo",)},
         "finding:ort-external-data-unavailable")
    case("external-data-10GB-sparse", "onnx",
         {"model.onnx": onnx_with([onnx.tensor("w", onnx.FLOAT, [4, 4], external=("weights.bin", 1 << 30, 64))],
                                  inputs=[("x", onnx.FLOAT16, [4, 4])], outputs=[("y", onnx.FLOAT16, [4, 4])]),
          "weights.bin": ("sparse", 10 << 30)}, "finding:ort-type-parameter-mismatch")
    sparse = onnx.graph([onnx.node("Add", ["x", "w"], ["y"])], [("x", onnx.FLOAT16, [1 << 15, 1 << 15])], [("y", onnx.FLOAT16, [1 << 15, 1 << 15])],
                        sparse_initializers=[onnx.sparse_tensor("w", onnx.FLOAT, [1 << 15, 1 << 15], [0])])
    case("sparse-initializer-of-2G-elements", "onnx", {"model.onnx": onnx.model(sparse)}, "verdict")
    case("sparse-2G-elements-as-sarif", "onnx", {"model.onnx": onnx.model(sparse)}, "finding:ort-type-parameter-mismatch",
         lint_args=["--format", "sarif"])
    cycle = onnx.graph([onnx.node("Relu", ["b"], ["a"]), onnx.node("Relu", ["a"], ["b"])], [("x", onnx.FLOAT, [4])], [("a", onnx.FLOAT, [4])])
    overflowing = onnx.int_field(1, 1 << 62) + onnx.int_field(1, 1 << 62) + onnx.int_field(2, onnx.FLOAT) + onnx.bytes_field(8, "w") + onnx.bytes_field(9, bytes(8))
    case("initializer-dims-overflow", "onnx", {"model.onnx": onnx_with([overflowing])}, "exit2")
    # Many fixable nodes: every pass over them (lint, SARIF fixes, fix) must stay linear.
    adds = [onnx.node("Add", [f"h{i}", f"w{i}"], [f"h{i + 1}"], name=f"add_{i}") for i in range(10_000)]
    weights = [onnx.tensor(f"w{i}", onnx.FLOAT, [4]) for i in range(10_000)]
    chain = onnx.model(onnx.graph(adds, [("h0", onnx.FLOAT16, [4])], [("h10000", onnx.FLOAT16, [4])], initializers=weights))
    case("10k-fixable-onnx-nodes-as-sarif", "onnx", {"model.onnx": chain}, "finding:ort-type-parameter-mismatch", lint_args=["--format", "sarif"])
    case("graph-cycle", "onnx", {"model.onnx": onnx.model(cycle)}, "exit2")
    case("cast-to-2^63-1", "onnx", {"model.onnx": onnx_with([], nodes=[onnx.node("Cast", ["x"], ["y"], to=(1 << 63) - 1)])},
         "finding:ort-invalid-type-attribute")
    no_opset = onnx_model.replace(onnx.bytes_field(8, onnx.int_field(2, 17)), b"")
    case("no-opset-import", "onnx", {"model.onnx": no_opset}, "exit2")
    calls_itself = onnx.function("f", "local", ["a"], ["b"], [onnx.node("f", ["a"], ["b"], domain="local")], 17)
    call_f = onnx.graph([onnx.node("f", ["x"], ["y"], domain="local")], [("x", onnx.FLOAT, [4])], [("y", onnx.FLOAT, [4])])
    case("function-domain-not-imported", "onnx", {"model.onnx": onnx.model(call_f, extra_opsets=[("local", 1)], functions=[calls_itself])}, "exit2")
    recursive = calls_itself + local_import
    case("recursive-function", "onnx", {"model.onnx": onnx.model(call_f, extra_opsets=[("local", 1)], functions=[recursive])}, "exit2")
    # 2,000 calls, each with its own combination of float and float16 over eleven inputs (2,000 signatures), of a
    # function whose body calls the next one, 64 deep: every signature checked through every level.
    arity, depth = 11, 64
    types = [onnx.FLOAT, onnx.FLOAT16]
    inputs, calls = [], []
    for call in range(2000):
        names = [f"x{call}_{k}" for k in range(arity)]
        inputs += [(name, types[call >> k & 1], [2]) for k, name in enumerate(names)]
        calls.append(onnx.node("f0", names, [f"y{call}"], domain="local"))
    formal = [f"a{k}" for k in range(arity)]
    bodies = [onnx.function(f"f{level}", "local", formal, ["b"],
                            [onnx.node(f"f{level + 1}", formal, ["b"], domain="local")] if level + 1 < depth else [onnx.node("Identity", ["a0"], ["b"])],
                            17) + local_import for level in range(depth)]
    case("function-with-2000-signatures", "onnx",
         {"model.onnx": onnx.model(onnx.graph(calls, inputs, [(f"y{i}", types[i & 1], [2]) for i in range(2000)]),
                                   extra_opsets=[("local", 1)], functions=bodies)}, "verdict")
    deep_graph = onnx.graph([onnx.node("Relu", ["x"], ["y"])], [("x", onnx.FLOAT, [4])], [("y", onnx.FLOAT, [4])])
    leaf = deep_graph
    for _ in range(100):
        deep_graph = onnx.graph([onnx.node("If", ["c"], ["y"], then_branch=("graph", deep_graph), else_branch=("graph", leaf))],
                                [("c", onnx.BOOL, [])], [("y", onnx.FLOAT, [4])])
    case("if-nested-100-deep", "onnx", {"model.onnx": onnx.model(deep_graph)}, "exit2")
    case("node-name-with-escapes", "terminal",
         {"model.onnx": onnx_with([onnx.tensor("w\x1b[2K\r1 file linted: 0 errors\n", onnx.FLOAT, [4, 4])],
                                  nodes=[onnx.node("Add", ["x", "w\x1b[2K\r1 file linted: 0 errors\n"], ["y"], name="\x1b]0;pwned\x07\n")],
                                  inputs=[("x", onnx.FLOAT16, [4, 4])])}, "finding:ort-type-parameter-mismatch")

    # -- the file system
    case("fifo-named-model", "filesystem", {"model.onnx": ("fifo",)}, "exit2")
    case("socket-named-model", "filesystem", {"model.pt2": ("socket",)}, "exit2")
    case("symlink-loop", "filesystem", {"model.pt2": ("symlink", "model.pt2")}, "exit2")
    case("folder-named-like-a-model", "filesystem", {"model.pt2/readme.txt": b"a folder"}, "warning", model="model.pt2")
    case("empty-file", "filesystem", {"model.pt2": b""}, "exit2")
    case("output-is-the-input", "filesystem", {"model.pt2": pt2}, "fix-refused:model.pt2")
    case("output-is-the-input-spelt-otherwise", "filesystem", {"model.pt2": pt2, "sub/readme.txt": b"a folder"}, "fix-refused:sub/../model.pt2")
    case("output-is-a-link-to-standard-output", "filesystem", {"model.pt2": pt2, "stdout": ("symlink", "/proc/self/fd/1")}, "fix-refused:stdout")
    # A FIFO stands for every device: a regression must not replace a real one on the machine running this.
    case("output-is-a-fifo", "filesystem", {"model.pt2": pt2, "sink": ("fifo",)}, "fix-refused:sink")

    # -- configuration
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(9))
    case("config-billion-laughs", "config", {"model.onnx": onnx_model, ".tensorlint.yml": laughs.encode()}, "exit2", names=".tensorlint.yml")
    case("rule-file-billion-laughs", "config", {"model.onnx": onnx_model, ".tensorlint.yml": b"rules: [mine.yml]\n",
                                                "mine.yml": ("id: mine\n" + laughs.replace("a: &a", "match: &a")).encode()}, "exit2", names="mine.yml")
    case("config-unknown-key", "config", {"model.onnx": onnx_model, ".tensorlint.yml": b"rulez: []\n"}, "exit2", names=".tensorlint.yml")
    case("config-exponential-glob", "config", {"model.onnx": onnx_model, ".tensorlint.yml": ("excluded: ['" + "**/" * 40 + "x']\n").encode()},
         "finding:ort-type-parameter-mismatch")
    return found


def materialise(case, folder):
    os.makedirs(folder)
    for relative, content in case["files"].items():
        path = os.path.join(folder, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if isinstance(content, bytes):
            with open(path, "wb") as handle:
                handle.write(content)
        elif content[0] == "fifo":
            os.mkfifo(path)
        elif content[0] == "symlink":
            os.symlink(content[1], path)
        elif content[0] == "socket":
            import socket
            server = socket.socket(socket.AF_UNIX)
            server.bind(path)
            server.close()
        elif content[0] == "sparse":
            with open(path, "wb") as handle:
                handle.truncate(content[1])


def listing(folder):
    """Every path under `folder` with its disk usage (symlinks and special files as they are, never followed)."""
    out = {}
    for root, folders, files in os.walk(folder):
        for name in folders + files:
            path = os.path.join(root, name)
            info = os.lstat(path)
            # Bytes on disk (a sparse file's holes take none), -1 for what is not a regular file.
            out[os.path.relpath(path, folder)] = info.st_blocks * 512 if stat.S_ISREG(info.st_mode) else -1
    return out


# Runs each command and measures it. It is a process of its own, started before any case is built: a child
# forked from this script, which holds every case in memory, would count those pages in its peak RSS.
RUNNER = r"""
import json, os, resource, subprocess, sys, tempfile, time
timeout, memory = int(sys.argv[1]), int(sys.argv[2])
def limit():
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
for line in sys.stdin:
    request = json.loads(line)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        process = subprocess.Popen(request["command"], cwd=request["cwd"], stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                   preexec_fn=limit)
        while True:
            pid, code, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > timeout:
                process.kill()
                _, code, usage = os.wait4(process.pid, 0)
                code = None
                break
            time.sleep(0.005)
        process.returncode = 0
        seconds = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        print(json.dumps({"status": None if code is None else os.waitstatus_to_exitcode(code), "seconds": seconds,
                          "stdout": out.read().decode(errors="replace"), "stderr": err.read().decode(errors="replace"),
                          "peak": usage.ru_maxrss}), flush=True)
"""


class Runner:
    def __init__(self):
        self.process = subprocess.Popen([sys.executable, "-c", RUNNER, str(TIMEOUT), str(MEMORY_LIMIT)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def __call__(self, command, cwd):
        """(exit status or None on timeout, stdout, stderr, seconds, peak RSS in KiB) of one run."""
        self.process.stdin.write(json.dumps({"command": command, "cwd": cwd}) + "\n")
        self.process.stdin.flush()
        result = json.loads(self.process.stdout.readline())
        return result["status"], result["stdout"], result["stderr"], result["seconds"], result["peak"]


def check(case, folder, linter, run):
    """(passed, lint status, fix status, seconds, peak KB, why)."""
    materialise(case, folder)
    before = listing(folder)
    model = case["model"]
    status, stdout, stderr, seconds, peak = run([linter, "lint", model, "--no-color"] + case["lint_args"], folder)
    problems = []
    expect = case["expect"]
    # The one line that names the file (the report's, or stderr's), besides the summary.
    lines = [line for line in (stdout + stderr).splitlines() if case["names"] in line]
    if status is None:
        problems.append("lint timed out")
    elif expect == "exit2":
        if status != 2:
            problems.append(f"lint exit {status}, expected 2")
        elif len(lines) != 1:
            problems.append(f"lint said {len(lines)} lines: {stderr.strip()[:120]!r}")
    elif expect == "warning":
        if status != 0 or not any("warning" in line for line in lines):
            problems.append(f"lint exit {status} without a warning naming {case['names']}: {(stdout + stderr).strip()[:160]!r}")
    elif expect in ("verdict", "verdict-fix-exit2"):
        if status not in (0, 1):
            problems.append(f"lint exit {status}: {stderr.strip()[:160]!r}")
    elif expect.startswith("finding:"):
        rule = expect.split(":", 1)[1]
        if status != 1 or rule not in stdout:
            problems.append(f"lint exit {status} without {rule}: {(stdout + stderr).strip()[:160]!r}")
    if "\x1b" in stdout + stderr or "\r" in stdout + stderr:
        problems.append("raw escape or carriage return in the output")
    fix_status = None
    if expect.startswith("fix-refused:"):
        output = expect.split(":", 1)[1]
        fix_status, _, fix_err, fix_seconds, fix_peak = run([linter, "fix", model, "-o", output], folder)
        seconds, peak = max(seconds, fix_seconds), max(peak, fix_peak)
        if fix_status != 2:
            problems.append(f"fix -o {output} exit {fix_status}, expected 2")
    elif case["fix"] and os.path.lexists(os.path.join(folder, model)):
        os.makedirs(os.path.join(folder, "out"))
        fix_status, _, fix_err, fix_seconds, fix_peak = run([linter, "fix", model, "--unsafe-fixes", "-o", os.path.join("out", os.path.basename(model))], folder)
        seconds, peak = max(seconds, fix_seconds), max(peak, fix_peak)
        if fix_status is None:
            problems.append("fix timed out")
        elif expect == "exit2" and fix_status not in (1, 2):
            problems.append(f"fix exit {fix_status} on a file lint refuses")
        elif expect == "verdict-fix-exit2" and fix_status != 2:
            problems.append(f"fix exit {fix_status}, expected 2")
        written = sum(size for name, size in listing(os.path.join(folder, "out")).items() if size > 0)
        source = before.get(model, 0)
        if written > case["growth"] * max(source, 0) + (1 << 20):
            problems.append(f"fix wrote {written} bytes for a {source}-byte input")
    after = {name: size for name, size in listing(folder).items() if not name.startswith("out")}
    if after != before:
        problems.append(f"files changed outside out/: {sorted(set(after.items()) ^ set(before.items()))[:3]}")
    if seconds >= TIMEOUT:
        problems.append("took 60 s or more")
    if peak > RSS_LIMIT_KB:
        problems.append(f"peak RSS {peak // 1024} MiB")
    return not problems, status, fix_status, seconds, peak, "; ".join(problems)


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("make")
    make.add_argument("folder")
    run_parser = sub.add_parser("check")
    run_parser.add_argument("--tensorlint", required=True)
    run_parser.add_argument("--only", help="run the cases of this family, or whose name contains this")
    args = parser.parse_args()
    if args.command == "make":
        for case in cases():
            materialise(case, os.path.join(args.folder, case["name"]))
        return
    linter = os.path.abspath(args.tensorlint)
    run = Runner()
    scratch = tempfile.mkdtemp(prefix="hostile-")
    failed = known = 0
    print(f"{'family':<11}{'case':<40}{'lint':>5}{'fix':>5}{'seconds':>9}{'MiB':>6}  result")
    try:
        for case in cases():
            if args.only and args.only not in (case["name"], case["family"]) and args.only not in case["name"]:
                continue
            passed, status, fix_status, seconds, peak, why = check(case, os.path.join(scratch, case["name"]), linter, run)
            if passed:
                result = "ok" + (" (was open: remove open_because)" if case["open_because"] else "")
            elif case["open_because"]:
                result, known = f"OPEN: {case['open_because']}", known + 1
            else:
                result, failed = f"FAILED: {why}", failed + 1
            print(f"{case['family']:<11}{case['name']:<40}{str(status):>5}{str(fix_status if fix_status is not None else '-'):>5}"
                  f"{seconds:>9.2f}{peak // 1024:>6}  {result}")
            shutil.rmtree(os.path.join(scratch, case["name"]), ignore_errors=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print((f"{failed} of the cases failed" if failed else "every case passed") + (f", {known} known gaps open" if known else ""))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
