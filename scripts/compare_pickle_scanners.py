#!/usr/bin/env python3
"""Builds a set of malicious and benign torch files and runs tensorlint's pickle check beside the scanners
users run today (picklescan, modelscan, fickling) on each, printing detections and false alarms.

Malicious: the payloads attackers use (a GLOBAL of os/posix.system, builtins.eval and exec, subprocess
through protocol 4's STACK_GLOBAL with memoised names, protocol 0's INST, getattr(__import__('os'), 'system'),
runpy, webbrowser) placed where torch files carry pickles: the weights and constants a torch 2.1-2.7
`.pt2` nests as torch.save archives, the example inputs of a torch 2.8+ `.pt2`, TorchScript's data.pkl and
constants.pkl, and a torch.save checkpoint. Benign: every torch archive in examples/models and, when given,
the corpora of ../shared (`--corpus`). Only the standard library builds the set; nothing is unpickled.

    python3 scripts/compare_pickle_scanners.py --tensorlint .build/release/tensorlint \\
        [--peers /path/to/venv/bin] [--corpus ../shared/corpus]

tensorlint counts as detecting a file when it exits non-zero naming the pickle rule or the global (exit 1
with `unsafe-pickle-global`, or exit 2 for a torch.save checkpoint, which it does not lint, with the global
named); a peer, when it exits with its "found" status or prints a dangerous/unsafe verdict.
"""
import argparse
import io
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, "..", "examples", "models")


def text(value):
    data = value.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def short(value):
    data = value.encode()
    return b"\x8c" + bytes([len(data)])


# Each payload is one pickled *value* (it leaves one object on the stack), so that it can stand as the value
# of a key in a state dict, or be a whole pickle with PROTO before and STOP after.
PAYLOADS = {
    "os.system (GLOBAL)": b"cos\nsystem\n" + text("echo pwned") + b"\x85R",
    "posix.system (GLOBAL)": b"cposix\nsystem\n" + text("echo pwned") + b"\x85R",
    "builtins.eval": b"cbuiltins\neval\n" + text("print('pwned')") + b"\x85R",
    "builtins.exec": b"cbuiltins\nexec\n" + text("import os; os.system('echo pwned')") + b"\x85R",
    "subprocess.Popen (STACK_GLOBAL, memo)": b"\x8c\x0asubprocess\x94\x8c\x05Popen\x94\x93" + b"\x8c\x04echo\x94\x8c\x05pwned\x94\x86\x85R",
    "os.system (INST, protocol 0)": b"(S'echo pwned'\nios\nsystem\n",
    "getattr(__import__('os'), 'system')": b"cbuiltins\ngetattr\n(cbuiltins\n__import__\n" + text("os") + b"\x85R" + text("system")
                                           + b"tR" + text("echo pwned") + b"\x85R",
    "runpy._run_code": b"crunpy\n_run_code\n" + text("print('pwned')") + b"}\x86R",
    "webbrowser.open": b"cwebbrowser\nopen\n" + text("https://example.com/pwned") + b"\x85R",
}


class _Recorder(pickle.Unpickler):
    """Resolves every global to a stub that records the call: proves a payload is a pickle Python would
    run to the global, without running anything."""
    class Stub:
        def __call__(self, *args, **kwargs):
            return self

    def find_class(self, module, name):
        self.found.append(f"{module}.{name}")
        return self.Stub()


def check_payloads():
    for name, payload in PAYLOADS.items():
        for data in (b"\x80\x02" + payload + b".", with_payload_in_dict(b"\x80\x02}(u.", payload)):
            recorder = _Recorder(io.BytesIO(data))
            recorder.found = []
            recorder.load()
            assert recorder.found, f"{name}: the payload names no global when unpickled"


def entry(archive, name, data):
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    archive.writestr(info, data)


def rewrite_zip(path, replace):
    """The archive at `path` with each entry's bytes passed through `replace(name, data)`."""
    out = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            entry(target, info.filename, replace(info.filename, source.read(info.filename)))
    return out.getvalue()


def with_payload_in_dict(state_dict_pickle, payload):
    """A protocol-2 state-dict pickle (`}(` … `u.`) with one more key whose value is the payload."""
    assert state_dict_pickle.endswith(b"u.")
    return state_dict_pickle[:-2] + text("payload") + payload + b"u."


def nested_torch_save(data, payload):
    def replace(name, content):
        return with_payload_in_dict(content, payload) if name.endswith("/data.pkl") else content
    buffer = io.BytesIO(data)
    return rewrite_zip(buffer, replace)


def build(folder):
    """(path, malicious, description) for every file of the set."""
    cases = []
    legacy_pt2 = os.path.join(EXAMPLES, "linear.fp32.aten.pt2")
    pt2_archive = os.path.join(EXAMPLES, "leaky_relu.fp16.aten.pt2")
    torchscript = os.path.join(EXAMPLES, "linear.fp32.pt")
    for index, (name, payload) in enumerate(PAYLOADS.items()):
        # torch 2.1-2.7 .pt2: the payload in the nested weights.
        path = os.path.join(folder, f"m{index:02d}_weights.pt2")
        with open(path, "wb") as out:
            out.write(rewrite_zip(legacy_pt2, lambda n, c: nested_torch_save(c, payload) if n == "serialized_state_dict.pt" else c))
        cases.append((path, True, f"{name} in a torch 2.7 .pt2's nested weights"))
        # TorchScript: the payload as data.pkl.
        path = os.path.join(folder, f"m{index:02d}_torchscript.pt")
        with open(path, "wb") as out:
            out.write(rewrite_zip(torchscript, lambda n, c: b"\x80\x02" + payload + b"." if n.endswith("/data.pkl") else c))
        cases.append((path, True, f"{name} as TorchScript data.pkl"))
        # A torch.save checkpoint: archive/data.pkl holding a state dict with the payload.
        checkpoint = io.BytesIO()
        with zipfile.ZipFile(checkpoint, "w") as archive:
            entry(archive, "archive/data.pkl", with_payload_in_dict(b"\x80\x02}(u.", payload))
            entry(archive, "archive/byteorder", b"little")
            entry(archive, "archive/version", b"3\n")
        path = os.path.join(folder, f"m{index:02d}_checkpoint.pt")
        with open(path, "wb") as out:
            out.write(checkpoint.getvalue())
        cases.append((path, True, f"{name} in a torch.save checkpoint"))
    payload = PAYLOADS["os.system (GLOBAL)"]
    # The other places a .pt2 nests pickles.
    path = os.path.join(folder, "m90_constants.pt2")
    with open(path, "wb") as out:
        out.write(rewrite_zip(legacy_pt2, lambda n, c: nested_torch_save(c, payload) if n == "serialized_constants.pt" else c))
    cases.append((path, True, "os.system in a torch 2.7 .pt2's nested constants"))
    sample = io.BytesIO()
    with zipfile.ZipFile(sample, "w") as archive:
        entry(archive, "model/data.pkl", b"\x80\x02" + payload + b".")
        entry(archive, "model/version", b"3\n")
    path = os.path.join(folder, "m91_sample_inputs.pt2")
    with open(path, "wb") as out:
        out.write(rewrite_zip(pt2_archive, lambda n, c: sample.getvalue() if n.endswith("data/sample_inputs/model.pt") else c))
    cases.append((path, True, "os.system in a torch 2.8+ .pt2's example inputs"))
    path = os.path.join(folder, "m92_constants.pt")
    with open(path, "wb") as out:
        out.write(rewrite_zip(torchscript, lambda n, c: b"\x80\x02" + payload + b"." if n.endswith("/constants.pkl") else c))
    cases.append((path, True, "os.system as TorchScript constants.pkl"))
    return cases


def benign(corpus):
    files = [os.path.join(EXAMPLES, name) for name in sorted(os.listdir(EXAMPLES))
             if name.endswith((".pt", ".pt2")) and "os_system" not in name]
    if corpus:
        for name in ("synthetic", "synthetic-torch2.13", "torchscript"):
            models = os.path.join(corpus, name, "models")
            if os.path.isdir(models):
                files += [os.path.join(models, f) for f in sorted(os.listdir(models)) if f.endswith((".pt", ".pt2"))]
    return files


def run(command):
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        return done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired:
        return None, "timeout"


def tensorlint_flags(linter, path):
    status, output = run([linter, "lint", path, "--format", "concise", "--no-color"])
    return status in (1, 2) and ("unsafe-pickle-global" in output or "does not allow: loading it may run code" in output)


def picklescan_flags(bin_dir, path):
    status, output = run([os.path.join(bin_dir, "picklescan"), "-p", path])
    # picklescan: exit 1 when it finds dangerous globals.
    return status == 1


def modelscan_flags(bin_dir, path):
    status, output = run([os.path.join(bin_dir, "modelscan"), "-p", path])
    # modelscan: exit 1 when it reports issues.
    return status == 1


def fickling_flags(bin_dir, path):
    python = os.path.join(bin_dir, "python")
    probe = ("import sys, fickling\n"
             "try:\n    safe = fickling.is_likely_safe(sys.argv[1])\n"
             "except Exception as error:\n    print('error', error); sys.exit(3)\n"
             "sys.exit(0 if safe else 1)\n")
    status, output = run([python, "-c", probe, path])
    return status == 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tensorlint", required=True)
    parser.add_argument("--peers", help="bin folder of a venv with picklescan, modelscan and fickling")
    parser.add_argument("--corpus", help="../shared/corpus, for its torch archives as benign files")
    args = parser.parse_args()
    scanners = {"tensorlint": lambda path: tensorlint_flags(args.tensorlint, path)}
    if args.peers:
        for name, check in (("picklescan", picklescan_flags), ("modelscan", modelscan_flags), ("fickling", fickling_flags)):
            if name == "fickling" or shutil.which(name, path=args.peers):
                scanners[name] = (lambda check: lambda path: check(args.peers, path))(check)
    check_payloads()
    folder = tempfile.mkdtemp(prefix="pickle-scanners-")
    malicious = build(folder)
    clean = benign(args.corpus)
    names = list(scanners)
    print(f"{'malicious file':<66}" + "".join(f"{name:>12}" for name in names))
    detected = {name: 0 for name in names}
    for path, _, description in malicious:
        marks = []
        for name in names:
            flagged = scanners[name](path)
            detected[name] += flagged
            marks.append("flagged" if flagged else "MISSED")
        print(f"{description[:65]:<66}" + "".join(f"{mark:>12}" for mark in marks))
    false_alarms = {name: 0 for name in names}
    # Peers take about a second a file: beyond the examples, a sample of the corpora for them.
    for index, path in enumerate(clean):
        for name in names:
            if name != "tensorlint" and index % 10 and "examples" not in path:
                continue
            if scanners[name](path):
                false_alarms[name] += 1
                print(f"false alarm: {name} on {path}")
    peer_checked = sum(1 for index, path in enumerate(clean) if not index % 10 or "examples" in path)
    print()
    print(f"{'':<30}" + "".join(f"{name:>12}" for name in names))
    print(f"{'malicious detected':<30}" + "".join(f"{str(detected[n]) + '/' + str(len(malicious)):>12}" for n in names))
    print(f"{'benign flagged':<30}" + "".join(
        f"{str(false_alarms[n]) + '/' + str(len(clean) if n == 'tensorlint' else peer_checked):>12}" for n in names))
    shutil.rmtree(folder)
    sys.exit(0 if detected["tensorlint"] == len(malicious) and false_alarms["tensorlint"] == 0 else 1)


if __name__ == "__main__":
    main()
