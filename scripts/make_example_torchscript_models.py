#!/usr/bin/env python3
"""Write the small TorchScript archives that tensorlint's rule examples and tests use.

    python3 scripts/make_example_torchscript_models.py   # writes examples/models/*.pt and examples/broken/*.pt

Standard library only: the archives are laid out as `torch.jit.save` writes them (one top folder, data.pkl,
code/__torch__.py, constants.pkl, traced_inputs.pkl, version, byteorder; research/torchscript.md §1), with
the pickles written opcode by opcode in the protocol-2 dialect of torch's jit pickler and the code as
torch's printer prints it. Each model is a traced module in miniature; the broken and hostile ones feed the
reader's error tests. Output is deterministic: running the script again changes no byte.
"""
import os
import struct
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(os.path.dirname(HERE), "examples")
STORAGE = {"float32": ("FloatStorage", "<f", 4), "float16": ("HalfStorage", "<e", 2), "bfloat16": ("BFloat16Storage", None, 2),
           "int64": ("LongStorage", "<q", 8), "float64": ("DoubleStorage", "<d", 8)}


# ---- pickle opcodes (protocol 2, as torch::jit::Pickler writes them) ------------------------------------
def string(text):
    data = text.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def integer(value):
    if 0 <= value < 256:
        return b"K" + bytes([value])
    if 0 <= value < 65536:
        return b"M" + struct.pack("<H", value)
    return b"J" + struct.pack("<i", value)


def floating(value):
    return b"G" + struct.pack(">d", value)


def global_(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def tuple_(items):
    return b"(" + b"".join(items) + b"t"


class Tensor:
    """A tensor in a pickle: its storage record, dtype and shape (contiguous)."""

    def __init__(self, dtype, shape, values=None):
        self.dtype, self.shape = dtype, shape
        count = 1
        for size in shape:
            count *= size
        self.count = count
        self.values = values if values is not None else [((index * 7) % 11 - 5) / 8 for index in range(count)]

    def payload(self):
        storage, pack, width = STORAGE[self.dtype]
        if self.dtype == "bfloat16":
            return b"".join(struct.pack("<f", value)[2:] for value in self.values)
        return b"".join(struct.pack(pack, value) for value in self.values)

    def pickle(self, key, with_data=True):
        strides, stride = [], 1
        for size in reversed(self.shape):
            strides.insert(0, stride)
            stride *= size
        storage = STORAGE[self.dtype][0]
        persistent = tuple_([string("storage"), global_("torch", storage), string(key), string("cpu"),
                             integer(self.count if with_data else self.count)]) + b"Q"
        return (global_("torch._utils", "_rebuild_tensor_v2")
                + tuple_([persistent, integer(0), tuple_([integer(s) for s in self.shape]), tuple_([integer(s) for s in strides]),
                          b"\x88", global_("collections", "OrderedDict") + b")R"]) + b"R")


class Module:
    def __init__(self, qualified, attributes):
        self.qualified, self.attributes = qualified, attributes


def value(item, storages, folder):
    if isinstance(item, Module):
        module, name = item.qualified.rsplit(".", 1)
        body = b"".join(string(key) + value(child, storages, folder) for key, child in item.attributes)
        return global_(module, name) + b")\x81}(" + body + b"ub"
    if isinstance(item, Tensor):
        key = str(len(storages))
        storages.append((folder + key, item))
        return item.pickle(key)
    if isinstance(item, bool):
        return b"\x88" if item else b"\x89"
    if item is None:
        return b"N"
    if isinstance(item, int):
        return integer(item)
    if isinstance(item, float):
        return floating(item)
    raise TypeError(item)


def pickle(item, storages, folder):
    return b"\x80\x02" + value(item, storages, folder) + b"."


def traced_inputs(inputs):
    tag = global_("torch.jit._pickle", "restore_type_tag")
    tensors = b"".join(tensor.pickle(str(index), with_data=False) for index, tensor in enumerate(inputs))
    listed = tag + tuple_([b"](" + tensors + b"e", string("List[Any]")]) + b"R"
    return b"\x80\x02" + tag + tuple_([b"}(" + string("forward") + listed + b"u", string("Dict[str, List[Any]]")]) + b"R."


def constants_pickle(constants, storages):
    return b"\x80\x02" + (tuple_([value(c, storages, "constants/") for c in constants]) if constants else b")") + b"."


def write(path, name, code, root, inputs, constants=(), data_pickle=None, extra=()):
    """One archive; `code` maps code file paths (under code/) to their text."""
    storages = []
    data = data_pickle if data_pickle is not None else pickle(root, storages, "data/")
    constant_storages = []
    constants_bytes = constants_pickle(list(constants), constant_storages)
    entries = [(f"data/{key.split('/')[-1]}", tensor.payload()) for key, tensor in storages]
    entries.append(("data.pkl", data))
    for file, text in sorted(code.items()):
        entries.append((f"code/{file}", text.encode()))
    entries += [(key, tensor.payload()) for key, tensor in constant_storages]
    entries.append(("constants.pkl", constants_bytes))
    if inputs:
        entries += [(f"traced_inputs/{index}", b"") for index in range(len(inputs))]
        entries.append(("traced_inputs.pkl", traced_inputs(inputs)))
    entries += [("version", b"3\n"), ("byteorder", b"little")] + list(extra)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for entry, payload in entries:
            info = zipfile.ZipInfo(f"{name}/{entry}", date_time=(1980, 1, 1, 0, 0, 0))
            archive.writestr(info, payload)


def module_class(name, forward, parameters=(), submodules=(), buffers=()):
    lines = [f"class {name}(Module):",
             "  __parameters__ = [" + "".join(f'"{p}", ' for p in parameters) + "]",
             "  __buffers__ = [" + "".join(f'"{b}", ' for b in buffers) + "]"]
    lines += [f"  {p} : Tensor" for p in list(parameters) + list(buffers)]
    lines += ["  training : bool", "  _is_full_backward_hook : Optional[bool]"]
    lines += [f"  {attribute} : __torch__.{cls}" for attribute, cls in submodules]
    lines += [f"  def forward(self: __torch__.{name},"] + forward
    return "\n".join(lines) + "\n"


def plain(body, argument="x"):
    """A forward of one argument whose body is these lines."""
    return [f"    {argument}: Tensor) -> Tensor:"] + [f"    {line}" for line in body]


def root(attributes=()):
    return Module("__torch__.Net", [("training", False), ("_is_full_backward_hook", None)] + list(attributes))


def simple(name, body, dtype, shape=(1, 4, 8, 8), folder="models"):
    """A module without parameters whose forward is `body` (a list of code lines ending in `return`)."""
    code = {"__torch__.py": module_class("Net", plain(body))}
    write(os.path.join(EXAMPLES, folder, f"{name}.pt"), name, code, root(), [Tensor(dtype, list(shape))])


def with_child(name, child_class, child_forward, parameters, dtype, input_dtype=None, shape=(1, 4, 8, 8), input_shape=None):
    """A root module calling one child `inner` whose parameters are `parameters` (name → Tensor)."""
    code = {"__torch__.py": module_class("Net", plain(["inner = self.inner", "return (inner).forward(x, )"]),
                                         submodules=[("inner", child_class)])
            + module_class(child_class, child_forward, parameters=list(parameters))}
    child = Module(f"__torch__.{child_class}", [(p, t) for p, t in parameters.items()] + [("training", False), ("_is_full_backward_hook", None)])
    write(os.path.join(EXAMPLES, "models", f"{name}.pt"), name, code, root([("inner", child)]),
          [Tensor(input_dtype or dtype, list(input_shape or shape))])


def main():
    for dtype, suffix in [("float32", "fp32"), ("float16", "fp16"), ("bfloat16", "bf16")]:
        simple(f"leaky_relu.{suffix}", ["return torch.leaky_relu(x, 0.20000000000000001)"], dtype)
    island = ["input = torch.to(x, 5)", "{op}", "return torch.to(y, 6)"]
    for op, call in [("leaky_relu", "y = torch.leaky_relu(input, 0.20000000000000001)"), ("hardtanh", "y = torch.hardtanh(input, 0., 6.)"),
                     ("clamp_min", "y = torch.clamp_min(input, -0.5)")]:
        simple(f"{op}.island", [line.format(op=call) for line in island], "float32")
    simple("clamp_min.fp16", ["return torch.clamp_min(x, -0.5)"], "float16")
    simple("celu.fp32", ["return torch.celu(x)"], "float32")
    simple("addcmul.fp32", ["return torch.addcmul(x, x, x, value=0.5)"], "float32")
    simple("flatten_view.fp32", ["_0 = ops.prim.NumToTensor(torch.size(x, 0))", "return torch.view(x, [int(_0), -1])"], "float32")
    code = {"__torch__.py": module_class("Net", plain(["inner = self.inner", "return (inner).forward(x, )"]), submodules=[("inner", "Flatten")])
            + module_class("Flatten", plain(["_0 = ops.prim.NumToTensor(torch.size(x, 0))", "return torch.view(x, [int(_0), -1])"]))}
    flatten = Module("__torch__.Flatten", [("training", False), ("_is_full_backward_hook", None)])
    write(os.path.join(EXAMPLES, "models", "flatten_view.child.fp32.pt"), "flatten_view.child.fp32", code, root([("inner", flatten)]),
          [Tensor("float32", [1, 4, 8, 8])])

    linear = plain(["bias = self.bias", "weight = self.weight", "return torch.linear(x, weight, bias)"])
    for dtype, suffix in [("float32", "fp32"), ("float16", "fp16"), ("bfloat16", "bf16")]:
        with_child(f"linear.{suffix}", "Linear", linear, {"weight": Tensor(dtype, [3, 8]), "bias": Tensor(dtype, [3])}, dtype, shape=(1, 8))
    conv = plain(["bias = self.bias", "weight = self.weight",
                  "input = torch._convolution(x, weight, bias, [1, 1], [0, 0], [1, 1], False, [0, 0], 1, False, False, True, True)",
                  "return input"])
    for dtype, suffix in [("float32", "fp32"), ("float16", "fp16")]:
        with_child(f"conv2d.{suffix}", "Conv2d", conv, {"weight": Tensor(dtype, [2, 4, 3, 3]), "bias": Tensor(dtype, [2])}, dtype)
    layer_norm = plain(["bias = self.bias", "weight = self.weight", "return torch.layer_norm(x, [8], weight, bias)"])
    with_child("layer_norm.fp16", "LayerNorm", layer_norm, {"weight": Tensor("float16", [8]), "bias": Tensor("float16", [8])}, "float16")
    embedding = plain(["weight = self.weight", "return torch.embedding(weight, x)"])
    with_child("embedding.fp32", "Embedding", embedding, {"weight": Tensor("float32", [10, 4])}, "float32", input_dtype="int64",
               input_shape=(1, 3))

    # What torch.jit.script prints: control flow, an int parameter, a list grown by append, an annotated
    # assignment, a free function called through a value; no traced inputs.
    scripted = module_class("Net", ["    x: Tensor,", "    n: int=2) -> Tensor:"] + [f"    {line}" for line in [
        "_0 = __torch__.helper", "x0 = x", "for i in range(n):", "  x0 = torch.relu(x0)",
        "if bool(torch.gt(torch.sum(x0), 0)):", "  x1 = torch.mul(x0, 0.5)", "else:", "  x1 = x0",
        "_1 = annotate(List[Tensor], [])", "_2 = torch.append(_1, x1)", "y, = _1", "z : Optional[int] = None",
        "_3 = annotate(Dict[str, Tensor], {})", "return _0(y, )"]])
    scripted += "def helper(t: Tensor) -> Tensor:\n  return torch.leaky_relu(t, 0.10000000000000001)\n"
    write(os.path.join(EXAMPLES, "models", "scripted_control.fp32.pt"), "scripted_control.fp32", {"__torch__.py": scripted}, root(), [])

    # Broken and hostile archives: each must be refused with one line, nothing executed.
    broken = os.path.join(EXAMPLES, "broken")
    net = {"__torch__.py": module_class("Net", plain(["return torch.relu(x)"]))}
    hostile = {
        "ts_unknown_reconstructor": b"\x80\x02" + global_("torch._utils", "_rebuild_qtensor") + b")R.",
        "ts_protocol4": b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00N.",
        "ts_frame_opcode": b"\x80\x02\x95\x10\x00\x00\x00\x00\x00\x00\x00N.",
        "ts_truncated_pickle": pickle(root(), [], "data/")[:40],
    }
    # `os.system('echo pwned')` as the root object: a finding of the pickle rule, never run, never "fixed".
    write(os.path.join(EXAMPLES, "models", "os_system.fp32.pt"), "os_system.fp32", net, None, [Tensor("float32", [1, 4])],
          data_pickle=b"\x80\x02" + global_("os", "system") + string("echo pwned") + b"\x85R.")
    for name, data in hostile.items():
        write(os.path.join(broken, f"{name}.pt"), name, net, None, [Tensor("float32", [1, 4])], data_pickle=data)
    write(os.path.join(broken, "ts_bad_code.pt"), "ts_bad_code",
          {"__torch__.py": module_class("Net", plain(["return torch.relu(x) @@ 2"]))}, root(), [Tensor("float32", [1, 4])])
    deep = "(" * 10000 + "x" + ")" * 10000
    write(os.path.join(broken, "ts_deep_nesting.pt"), "ts_deep_nesting",
          {"__torch__.py": module_class("Net", plain([f"return torch.relu({deep})"]))}, root(), [Tensor("float32", [1, 4])])
    blocks = "".join("  " * depth + "if True:\n" for depth in range(2, 300)) + "  " * 300 + "pass\n"
    write(os.path.join(broken, "ts_deep_blocks.pt"), "ts_deep_blocks",
          {"__torch__.py": module_class("Net", plain([])) + blocks}, root(), [Tensor("float32", [1, 4])])
    print("wrote TorchScript examples to", os.path.relpath(EXAMPLES))


if __name__ == "__main__":
    main()
