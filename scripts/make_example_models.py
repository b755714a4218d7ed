#!/usr/bin/env python3
"""Write the small torch.export archives that tensorlint's README, rule examples and tests use.

    python3 scripts/make_example_models.py          # writes examples/models/ and examples/broken/

Standard library only: the archives are written the way torch.export.save lays them out (torch 2.7's
flat zip with serialized_exported_program.json, and torch 2.8+'s PT2 archive with models/model.json and
raw weight files), with the ExportedProgram JSON of docs/formats.md. The torch 2.7 layout's
state dict is a torch.save zip whose protocol-2 pickle is written opcode by opcode as torch writes it;
other pickled entries hold a placeholder that is never read. Output is deterministic: running the script again changes no byte.
"""
import io
import json
import os
import struct
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "examples")
DTYPE = {"fp16": 6, "fp32": 7, "bf16": 13, "i64": 5, "bool": 12}
SOURCE_FILE = "examples/model.py"


def sym_int(size):
    """A size: a number, or a symbol (`torch.export.Dim`) written as an expression with its hint."""
    if isinstance(size, str):
        return {"as_expr": {"expr_str": size, "hint": {"as_int": 2}}}
    return {"as_int": size}


def tensor_meta(dtype, shape):
    strides, step = [], 1
    for size in reversed(shape):
        strides.insert(0, step)
        step = f"{size}*{step}" if isinstance(size, str) or isinstance(step, str) else step * size
    return {"dtype": DTYPE[dtype], "sizes": [sym_int(s) for s in shape], "requires_grad": False,
            "device": {"type": "cpu", "index": None}, "strides": [sym_int(s) for s in strides],
            "storage_offset": {"as_int": 0}, "layout": 7}


class Program:
    """A tiny ExportedProgram: placeholders, then nodes in order."""

    def __init__(self, name, dialect="ATEN"):
        self.name, self.dialect = name, dialect
        self.values, self.inputs, self.specs, self.nodes, self.outputs, self.weights = {}, [], [], [], [], {}
        self.range_constraints = {}

    def user_input(self, name, dtype, shape):
        self.values[name] = tensor_meta(dtype, shape)
        self.inputs.append({"as_tensor": {"name": name}})
        self.specs.append({"user_input": {"arg": {"as_tensor": {"name": name}}}})
        return name

    def parameter(self, fqn, dtype, shape, buffer=False):
        name = ("b_" if buffer else "p_") + fqn.replace(".", "_")
        self.values[name] = tensor_meta(dtype, shape)
        self.inputs.append({"as_tensor": {"name": name}})
        kind = {"buffer": {"arg": {"name": name}, "buffer_name": fqn, "persistent": True}} if buffer else \
            {"parameter": {"arg": {"name": name}, "parameter_name": fqn}}
        self.specs.append(kind)
        self.weights[fqn] = (dtype, shape, buffer)
        return name

    def node(self, target, args, outputs, module=("act", "torch.nn.modules.activation.LeakyReLU"), line=12, code="return self.act(x)"):
        """args: list of (name, value); a str value is a tensor, numbers and lists are literals, a dict is
        written as it is (a graph, a symbol). An output of dtype "sym" is a SymInt."""
        inputs = []
        for arg_name, value in args:
            if isinstance(value, dict):
                arg = value
            elif isinstance(value, str):
                arg = {"as_tensor": {"name": value}}
            elif isinstance(value, bool):
                arg = {"as_bool": value}
            elif isinstance(value, int):
                arg = {"as_int": value}
            elif isinstance(value, float):
                arg = {"as_float": value}
            elif value is None:
                arg = {"as_none": True}
            elif isinstance(value, list):
                arg = {"as_ints": value}
            else:
                raise TypeError(value)
            inputs.append({"name": arg_name, "arg": arg, "kind": 1})
        outs = []
        for out_name, dtype, shape in outputs:
            if dtype == "sym":
                outs.append({"as_sym_int": {"as_name": out_name}})
                continue
            self.values[out_name] = tensor_meta(dtype, shape)
            outs.append({"as_tensor": {"name": out_name}})
        self.nodes.append({
            "target": target, "inputs": inputs, "outputs": outs,
            "metadata": {
                "stack_trace": f'File "{SOURCE_FILE}", line {line}, in forward\n    {code}',
                "nn_module_stack": f"L__self__,,model.Net;L__self__{module[0]},{module[0]},{module[1]}",
            },
            "is_hop_single_tensor_return": None, "name": outputs[0][0] if len(outputs) == 1 else target.split(".")[-2],
        })

    def output(self, name):
        self.outputs.append({"as_tensor": {"name": name}})

    def graph(self, legacy):
        """The graph as the serializer writes it (also a `torch.cond` branch's, as an `as_graph` argument)."""
        nodes = [dict(n) for n in self.nodes]
        if legacy:  # torch 2.7 files carry no node name
            for n in nodes:
                n.pop("name")
        return {"inputs": self.inputs, "outputs": self.outputs, "nodes": nodes,
                "tensor_values": self.values, "sym_int_values": {}, "sym_bool_values": {},
                "is_single_tensor_return": len(self.outputs) == 1, "custom_obj_values": {},
                "sym_float_values": {}}

    def exported_program(self, legacy):
        return {
            "graph_module": {
                "graph": self.graph(legacy),
                "signature": {"input_specs": self.specs,
                              "output_specs": [{"user_output": {"arg": o}} for o in self.outputs]},
                "module_call_graph": [], "metadata": {},
            },
            "opset_version": {"aten": 10}, "range_constraints": self.range_constraints,
            "schema_version": {"major": 8, "minor": 7 if legacy else 20},
            "verifiers": [self.dialect], "torch_version": "2.7.1" if legacy else "2.13.0",
        }


def entry(archive, name, data):
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    archive.writestr(info, data)


def weight_bytes(dtype, shape):
    count = 1
    for size in shape:
        count *= size
    width = {"fp16": 2, "bf16": 2, "fp32": 4, "i64": 8, "bool": 1}[dtype]
    return bytes(count * width)


STORAGE_CLASS = {"fp16": "HalfStorage", "bf16": "BFloat16Storage", "fp32": "FloatStorage", "i64": "LongStorage", "bool": "BoolStorage"}


def pickle_state_dict(weights):
    """The protocol-2 pickle torch.save writes for a state dict, opcode by opcode (as in real archives):
    {name: _rebuild_tensor_v2(persistent_id('storage', torch.XStorage, key, 'cpu', numel), 0, sizes, strides,
    False, OrderedDict())}; the storages themselves are the data/<key> records."""
    def text(value):
        data = value.encode()
        return b"X" + struct.pack("<I", len(data)) + data

    def integer(value):
        return b"K" + bytes([value]) if value < 256 else b"J" + struct.pack("<i", value)

    def ints(values):
        return b"(" + b"".join(integer(v) for v in values) + b"t"

    out = bytearray(b"\x80\x02}(")
    for key, (name, (dtype, shape, _)) in enumerate(sorted(weights.items())):
        count, strides, step = 1, [], 1
        for size in reversed(shape):
            strides.insert(0, step)
            step *= size
            count *= size
        out += text(name) + b"ctorch._utils\n_rebuild_tensor_v2\n("
        out += b"(" + text("storage") + b"ctorch\n" + STORAGE_CLASS[dtype].encode() + b"\n" + text(str(key)) + text("cpu")
        out += integer(count) + b"tQ" + integer(0) + ints(shape) + ints(strides) + b"\x89ccollections\nOrderedDict\n)RtR"
    return bytes(out + b"u.")


# What a hostile state dict runs when `torch.load(weights_only=False)` reads it: `posix.system('echo pwned')`,
# built as the value of one more key, so that the pickle is otherwise the usual one.
OS_SYSTEM = b"X\x07\x00\x00\x00payloadcposix\nsystem\nX\n\x00\x00\x00echo pwned\x85R"


def torch_save_archive(weights, payload=b""):
    """A torch.save zip: archive/data.pkl plus one raw record per storage."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        state_dict = pickle_state_dict(weights)
        entry(archive, "archive/data.pkl", state_dict[:-2] + payload + state_dict[-2:])
        entry(archive, "archive/.format_version", b"1")
        entry(archive, "archive/.storage_alignment", b"64")
        entry(archive, "archive/byteorder", b"little")
        for key, (_, (dtype, shape, _)) in enumerate(sorted(weights.items())):
            entry(archive, f"archive/data/{key}", weight_bytes(dtype, shape))
        entry(archive, "archive/version", b"3\n")
    return buffer.getvalue()


def save(program, path, legacy):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        program_json = json.dumps(program.exported_program(legacy), sort_keys=True).encode()
        if legacy:
            entry(archive, "serialized_exported_program.json", program_json)
            entry(archive, "serialized_state_dict.pt", torch_save_archive(program.weights, getattr(program, "payload", b"")))
            entry(archive, "serialized_constants.pt", torch_save_archive({}))
            entry(archive, "serialized_example_inputs.pt", b"PK placeholder: tensorlint never opens pickles")
            entry(archive, "version", b"8.7")
        else:
            root = os.path.basename(path)[: -len(".pt2")]
            config = {}
            for index, (fqn, (dtype, shape, buffer_)) in enumerate(sorted(program.weights.items())):
                entry(archive, f"{root}/data/weights/weight_{index}", weight_bytes(dtype, shape))
                config[fqn] = {"path_name": f"weight_{index}", "is_param": not buffer_, "use_pickle": False,
                               "tensor_meta": tensor_meta(dtype, shape)}
            entry(archive, f"{root}/data/weights/model_weights_config.json", json.dumps({"config": config}, sort_keys=True))
            entry(archive, f"{root}/data/constants/model_constants_config.json", b'{"config": {}}')
            entry(archive, f"{root}/models/model.json", program_json)
            entry(archive, f"{root}/data/sample_inputs/model.pt", b"PK placeholder: tensorlint never opens pickles")
            entry(archive, f"{root}/archive_format", b"pt2")
            entry(archive, f"{root}/archive_version", b"0")
            entry(archive, f"{root}/.data/version", b"6\n")
            entry(archive, f"{root}/byteorder", b"little")
    with open(path, "wb") as handle:
        handle.write(buffer.getvalue())


X = [1, 4, 8, 8]


def unary(name, target, args, dtype, dialect="ATEN", module=("act", "torch.nn.modules.activation.LeakyReLU")):
    p = Program(name, dialect)
    x = p.user_input("x", dtype, X)
    p.node(target, [("self", x)] + args, [(name, dtype, X)], module=module)
    p.output(name)
    return p


def models():
    yield "leaky_relu.fp32.aten.pt2", True, unary("leaky_relu", "torch.ops.aten.leaky_relu.default", [("negative_slope", 0.1)], "fp32")
    yield "leaky_relu.fp16.aten.pt2", False, unary("leaky_relu", "torch.ops.aten.leaky_relu.default", [("negative_slope", 0.1)], "fp16")
    yield "leaky_relu.fp32.train.pt2", True, unary("leaky_relu", "torch.ops.aten.leaky_relu.default", [("negative_slope", 0.1)], "fp32", dialect="TRAINING")
    yield "hardtanh.fp16.aten.pt2", False, unary("hardtanh", "torch.ops.aten.hardtanh.default",
                                                 [("min_val", -0.5), ("max_val", 0.5)], "fp16", module=("act", "torch.nn.modules.activation.Hardtanh"))
    yield "celu.fp32.aten.pt2", True, unary("celu", "torch.ops.aten.celu.default", [("alpha", 1.5)], "fp32",
                                            module=("act", "torch.nn.modules.activation.CELU"))
    yield "fmod.fp32.aten.pt2", False, unary("fmod", "torch.ops.aten.fmod.Scalar", [("other", -1.5)], "fp32",
                                             module=("act", "model.Wrap"))
    yield "clamp_min.fp16.aten.pt2", False, unary("clamp_min", "torch.ops.aten.clamp_min.default", [("min", 0.1)], "fp16")
    yield "clamp_min.fp32.aten.pt2", True, unary("clamp_min", "torch.ops.aten.clamp_min.default", [("min", 0.1)], "fp32")

    p = Program("where_scalar_other")
    x = p.user_input("x", "fp32", X)
    p.node("torch.ops.aten.gt.Scalar", [("self", x), ("other", 0.0)], [("gt", "bool", X)])
    p.node("torch.ops.aten.where.ScalarOther", [("condition", "gt"), ("self", x), ("other", 0.0)], [("where", "fp32", X)])
    p.output("where")
    yield "where_scalar_other.fp32.aten.pt2", False, p

    p = Program("hardshrink")
    x = p.user_input("x", "fp32", X)
    p.node("torch.ops.aten.abs.default", [("self", x)], [("abs_1", "fp32", X)])
    p.node("torch.ops.aten.le.Scalar", [("self", "abs_1"), ("other", 0.5)], [("le", "bool", X)])
    p.node("torch.ops.aten.where.ScalarSelf", [("condition", "le"), ("self", 0), ("other", x)], [("where", "fp32", X)])
    p.output("where")
    yield "hardshrink.fp32.aten.pt2", True, p

    # lerp.Tensor with operands of three shapes, in fp16 and the torch 2.7 layout: the fix both widens it
    # and rewrites the op, laying out values whose broadcast shape no operand has.
    p = Program("lerp_tensor")
    x = p.user_input("x", "fp16", [1, 4, 8, 1])
    y = p.user_input("y", "fp16", [1, 1, 1, 8])
    w = p.parameter("mix.weight", "fp16", [8])
    p.node("torch.ops.aten.lerp.Tensor", [("self", x), ("end", y), ("weight", w)], [("lerp", "fp16", X)],
           module=("mix", "model.Mix"), code="return torch.lerp(x, y, self.weight)")
    p.output("lerp")
    yield "lerp_tensor.fp16.torch27.pt2", True, p

    for dtype, legacy in (("fp32", True), ("bf16", False), ("bf16", True)):
        p = Program("linear")
        x = p.user_input("x", dtype, [1, 8])
        w = p.parameter("fc.weight", dtype, [6, 8])
        b = p.parameter("fc.bias", dtype, [6])
        p.node("torch.ops.aten.linear.default", [("input", x), ("weight", w), ("bias", b)], [("linear", dtype, [1, 6])],
               module=("fc", "torch.nn.modules.linear.Linear"), code="return self.fc(x)")
        p.output("linear")
        yield f"linear.{dtype}.{'torch27' if legacy and dtype != 'fp32' else 'aten'}.pt2", legacy, p
        if dtype == "fp32":
            p.payload = OS_SYSTEM
            yield "linear.fp32.os_system.torch27.pt2", legacy, p

    for followed in (False, True):
        p = Program("batch_norm")
        x = p.user_input("x", "fp32", X)
        args = [("input", x)]
        for fqn, kind in (("bn.weight", False), ("bn.bias", False), ("bn.running_mean", True), ("bn.running_var", True)):
            args.append((fqn.split(".")[1], p.parameter(fqn, "fp32", [4], buffer=kind)))
        args += [("momentum", 0.1), ("eps", 1e-05)]
        p.node("torch.ops.aten._native_batch_norm_legit_no_training.default", args,
               [("getitem", "fp32", X), ("_native_batch_norm_legit_no_training_unused_1", "fp32", [0]),
                ("_native_batch_norm_legit_no_training_unused_2", "fp32", [0])],
               module=("bn", "torch.nn.modules.batchnorm.BatchNorm2d"), code="return self.bn(x)")
        if followed:
            p.node("torch.ops.aten.relu.default", [("self", "getitem")], [("relu", "fp32", X)],
                   module=("act", "torch.nn.modules.activation.ReLU"), line=13, code="return self.act(self.bn(x))")
            p.output("relu")
        else:
            p.output("getitem")
        yield f"batch_norm{'_relu' if followed else ''}.fp32.aten.pt2", followed, p

    # A dynamic batch (`torch.export.Dim("batch", min=2, max=64)`): symbolic sizes, and the batch size read
    # by a `sym_size` node whose output is a SymInt.
    p = Program("leaky_relu_dynamic")
    p.range_constraints = {"s0": {"min_val": 2, "max_val": 64}}
    x = p.user_input("x", "fp16", ["s0", 4, 8, 8])
    p.node("torch.ops.aten.sym_size.int", [("self", x), ("dim", 0)], [("sym_size_int_1", "sym", None)], code="n = x.shape[0]")
    p.node("torch.ops.aten.leaky_relu.default", [("self", x), ("negative_slope", 0.1)], [("leaky_relu", "fp16", ["s0", 4, 8, 8])])
    p.output("leaky_relu")
    yield "leaky_relu_dynamic.fp16.aten.pt2", False, p

    # Two inputs (`forward(self, x, y)`): a fix must give `ct.convert` one `ct.TensorType` per input.
    p = Program("add_leaky_relu_two_inputs")
    x = p.user_input("x", "fp16", X)
    y = p.user_input("y", "fp16", X)
    p.node("torch.ops.aten.add.Tensor", [("self", x), ("other", y)], [("add", "fp16", X)], module=("", "model.Net"), code="h = x + y")
    p.node("torch.ops.aten.leaky_relu.default", [("self", "add"), ("negative_slope", 0.1)], [("leaky_relu", "fp16", X)])
    p.output("leaky_relu")
    yield "add_leaky_relu_two_inputs.fp16.aten.pt2", False, p

    # `torch.cond(x.sum() > 0, relu, neg, (x,))`: the branches are graphs of their own, as arguments.
    branches = []
    for name, target in (("true_graph_0", "torch.ops.aten.relu.default"), ("false_graph_0", "torch.ops.aten.neg.default")):
        branch = Program(name)
        branch.inputs.append({"as_tensor": {"name": "x_1"}})
        branch.values["x_1"] = tensor_meta("fp32", X)
        out = target.split(".")[-2]
        branch.node(target, [("self", "x_1")], [(out, "fp32", X)], module=("", "model.Net"), code=f"return torch.{out}(x)")
        branch.output(out)
        branches.append({"as_graph": {"name": name, "graph": branch.graph(False)}})
    p = Program("cond")
    x = p.user_input("x", "fp32", X)
    p.node("torch.ops.aten.sum.default", [("self", x)], [("sum_1", "fp32", [])], code="pred = x.sum() > 0")
    p.node("torch.ops.aten.gt.Scalar", [("self", "sum_1"), ("other", 0)], [("gt", "bool", [])], code="pred = x.sum() > 0")
    p.node("torch.ops.higher_order.cond", [("pred", "gt"), ("true_fn", branches[0]), ("false_fn", branches[1]),
                                            ("operands", {"as_tensors": [{"name": x}]})],
           [("cond", "fp32", X)], code="return torch.cond(pred, self.relu, self.neg, (x,))")
    p.output("cond")
    yield "cond.fp32.aten.pt2", False, p


def broken():
    """Damaged inputs that must give exit status 2 and one line, never a crash."""
    with open(os.path.join(OUT, "models", "leaky_relu.fp16.aten.pt2"), "rb") as handle:
        good = handle.read()
    yield "truncated.pt2", good[: len(good) // 2]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        entry(archive, "readme.txt", b"a zip archive that is no torch.export archive")
    yield "not_torch.pt2", buffer.getvalue()
    yield "text.pt2", b"this is a text file with a .pt2 name\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        entry(archive, "serialized_exported_program.json", b'{"graph_module": {"graph": ')
    yield "bad_json.pt2", buffer.getvalue()
    yield "empty.pt2", b""
    # Found by fuzz-torch-export-reader: a local header whose sizes (4 GB) are not the directory's (27 bytes).
    yield "fuzz_local_header_4gb.pt2", bytes.fromhex(
        "504b03041400000000000000210079937ec3e4fffdff10ff0000200000007365"
        "7269616c697a65645f6578706f727465645f70726f6772616d2e6a736f6e7b22"
        "67726170685f6d6f64756c65223a207b226772617068223a20504b0102140314"
        "000000000000002100796d813c1b0000001b0000002000000000000000000000"
        "0080a90000000073657269616c697a65645f6578706f727465645f70726f6772"
        "616d2e6a736f6e504b050600000000010001004e000000590000000000")


def main():
    os.makedirs(os.path.join(OUT, "models"), exist_ok=True)
    os.makedirs(os.path.join(OUT, "broken"), exist_ok=True)
    for file_name, legacy, program in models():
        save(program, os.path.join(OUT, "models", file_name), legacy)
        print(f"wrote examples/models/{file_name} ({'torch 2.7 flat zip' if legacy else 'PT2 archive'})")
    for file_name, data in broken():
        with open(os.path.join(OUT, "broken", file_name), "wb") as handle:
            handle.write(data)
        print(f"wrote examples/broken/{file_name}")


if __name__ == "__main__":
    main()
