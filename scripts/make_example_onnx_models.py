#!/usr/bin/env python3
"""Write the small ONNX models that tensorlint's rule examples and tests use.

    python3 scripts/make_example_onnx_models.py     # writes examples/models/*.onnx and examples/broken/*.onnx

Standard library only: a few lines of protobuf wire-format encoding with the field numbers of onnx.proto
(docs/formats.md §3), so the tests need neither onnx nor protobuf. Each model is what an fp16 or bf16
conversion leaves behind in miniature; the damaged ones feed the reader's error tests. Output is
deterministic: running the script again changes no byte.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(os.path.dirname(HERE), "examples")
FLOAT, INT64, BOOL, FLOAT16, DOUBLE, BFLOAT16 = 1, 7, 9, 10, 11, 16
ELEMENT_SIZE = {FLOAT: 4, INT64: 8, BOOL: 1, FLOAT16: 2, BFLOAT16: 2}


# ---- wire format -------------------------------------------------------------------------------------
def varint(value):
    out = bytearray()
    value &= (1 << 64) - 1
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def key(field, wire_type):
    return varint(field << 3 | wire_type)


def int_field(field, value):
    return key(field, 0) + varint(value)


def bytes_field(field, data):
    data = data.encode() if isinstance(data, str) else data
    return key(field, 2) + varint(len(data)) + data


def float_field(field, value):
    return key(field, 5) + struct.pack("<f", value)


# ---- ONNX messages -----------------------------------------------------------------------------------
def tensor(name, data_type, dims, external=None, values=None):
    """values: the float32, float16 or int64 elements (zeros when omitted)."""
    count = 1
    for size in dims:
        count *= size
    out = b"".join(int_field(1, size) for size in dims) + int_field(2, data_type) + bytes_field(8, name)
    if values is not None:
        out += bytes_field(9, struct.pack("<%d%s" % (len(values), {FLOAT: "f", FLOAT16: "e", INT64: "q"}[data_type]), *values))
    elif external is None:
        out += bytes_field(9, bytes(count * ELEMENT_SIZE[data_type]))
    else:
        location, offset, length = external
        for entry_key, value in (("location", location), ("offset", str(offset)), ("length", str(length))):
            out += bytes_field(13, bytes_field(1, entry_key) + bytes_field(2, value))
        out += int_field(14, 1)
    return out


def value_info(name, data_type, dims):
    """dims None: a tensor of unknown rank."""
    tensor_type = int_field(1, data_type)
    if dims is not None:
        tensor_type += bytes_field(2, b"".join(bytes_field(1, int_field(1, size)) for size in dims))
    return bytes_field(1, name) + bytes_field(2, bytes_field(1, tensor_type))


def attribute(name, value):
    if isinstance(value, bool) or isinstance(value, int):
        return bytes_field(1, name) + int_field(20, 2) + int_field(3, int(value))
    if isinstance(value, float):
        return bytes_field(1, name) + int_field(20, 1) + float_field(2, value)
    if isinstance(value, list) and all(isinstance(item, int) for item in value):
        return bytes_field(1, name) + int_field(20, 7) + b"".join(int_field(8, item) for item in value)
    if isinstance(value, tuple) and value[0] == "graph":
        return bytes_field(1, name) + int_field(20, 5) + bytes_field(6, value[1])
    if isinstance(value, tuple) and value[0] == "tensor":
        return bytes_field(1, name) + int_field(20, 4) + bytes_field(5, value[1])
    raise TypeError(value)


def node(op_type, inputs, outputs, name="", domain="", metadata=(), **attributes):
    out = b"".join(bytes_field(1, i) for i in inputs) + b"".join(bytes_field(2, o) for o in outputs)
    out += bytes_field(3, name) + bytes_field(4, op_type)
    out += b"".join(bytes_field(5, attribute(k, v)) for k, v in sorted(attributes.items()))
    if domain:
        out += bytes_field(7, domain)
    out += b"".join(bytes_field(9, bytes_field(1, k) + bytes_field(2, v)) for k, v in metadata)
    return out


def sparse_tensor(name, data_type, dims, indices):
    values = tensor(name, data_type, [len(indices)])
    index_tensor = int_field(1, len(indices)) + int_field(2, INT64) + bytes_field(8, name + "_indices") + \
        bytes_field(9, struct.pack("<%dq" % len(indices), *indices))
    return bytes_field(1, values) + bytes_field(2, index_tensor) + b"".join(int_field(3, size) for size in dims)


def graph(nodes, inputs, outputs, initializers=(), value_infos=(), name="main", sparse_initializers=()):
    out = b"".join(bytes_field(1, n) for n in nodes) + bytes_field(2, name)
    out += b"".join(bytes_field(5, t) for t in initializers)
    out += b"".join(bytes_field(15, t) for t in sparse_initializers)
    out += b"".join(bytes_field(11, value_info(*i)) for i in inputs)
    out += b"".join(bytes_field(12, value_info(*o)) for o in outputs)
    out += b"".join(bytes_field(13, value_info(*v)) for v in value_infos)
    return out


def function(name, domain, inputs, outputs, nodes, opset):
    out = bytes_field(1, name) + b"".join(bytes_field(4, i) for i in inputs) + b"".join(bytes_field(5, o) for o in outputs)
    out += b"".join(bytes_field(7, n) for n in nodes)
    out += bytes_field(9, int_field(2, opset)) + bytes_field(10, domain)
    return out


def model(main_graph, opset=17, ir_version=8, extra_opsets=(), functions=()):
    out = int_field(1, ir_version) + bytes_field(2, "tensorlint-examples") + bytes_field(3, "1")
    out += bytes_field(7, main_graph)
    out += bytes_field(8, int_field(2, opset))
    out += b"".join(bytes_field(8, bytes_field(1, domain) + int_field(2, version)) for domain, version in extra_opsets)
    out += b"".join(bytes_field(25, f) for f in functions)
    return out


# ---- the examples ------------------------------------------------------------------------------------
# What torch.onnx.export(dynamo=True) writes into each node.
TORCH_METADATA = (
    ("pkg.torch.onnx.class_hierarchy", "['examples.model.Net', 'torch.nn.modules.linear.Bias', 'aten.add.Tensor']"),
    ("pkg.torch.onnx.name_scopes", "['', 'head.bias', 'add']"),
    ("pkg.torch.onnx.stack_trace", 'File "examples/model.py", line 21, in forward\n    return self.head(x) + self.bias\n'),
)


def binary(op, a_type, b_type, b_initializer, opset=17, out_type=None):
    initializers = [tensor("b", b_type, [4])] if b_initializer else []
    inputs = [("a", a_type, [4])] + ([] if b_initializer else [("b", b_type, [4])])
    return model(graph([node(op, ["a", "b"], ["y"], name="%s_0" % op.lower(), metadata=TORCH_METADATA)], inputs,
                       [("y", out_type or a_type, [4])], initializers), opset=opset)


def unary(op, data_type, opset=17, **attributes):
    return model(graph([node(op, ["x"], ["y"], name="%s_0" % op.lower(), **attributes)],
                       [("x", data_type, [2, 4])], [("y", data_type, [2, 4])]), opset=opset)


def gemm(data_type):
    return model(graph([node("Gemm", ["x", "w", "c"], ["y"], name="gemm_0", transB=1)], [("x", data_type, [2, 4])],
                       [("y", data_type, [2, 3])], [tensor("w", data_type, [3, 4]), tensor("c", data_type, [3])]))


def if_model(else_casts):
    then_branch = graph([node("Identity", ["x"], ["then_out"], name="then_identity")], [], [("then_out", FLOAT16, [4])],
                        name="then")
    else_nodes = [node("Cast", ["x"], ["else_out"], name="else_cast", to=FLOAT)] if else_casts else \
        [node("Identity", ["x"], ["else_out"], name="else_identity")]
    else_branch = graph(else_nodes, [], [("else_out", FLOAT if else_casts else FLOAT16, [4])], name="else")
    main = graph([node("If", ["cond"], ["y"], name="if_0", then_branch=("graph", then_branch), else_branch=("graph", else_branch))],
                 [("cond", BOOL, []), ("x", FLOAT16, [4])], [("y", FLOAT16, [4])])
    return model(main, opset=17)


def loop_model(body_state_type):
    """`Loop(M, cond, v)` whose body declares its carried state `x` as `body_state_type` (the node passes fp16)."""
    body = graph([node("Identity", ["c"], ["c_out"], name="body_cond"), node("Identity", ["x"], ["x_out"], name="body_state")],
                 [("i", INT64, []), ("c", BOOL, []), ("x", body_state_type, [4])], [("c_out", BOOL, []), ("x_out", body_state_type, [4])],
                 name="loop_body")
    main = graph([node("Loop", ["m", "cond", "v"], ["out"], name="loop_0", body=("graph", body))],
                 [("m", INT64, []), ("cond", BOOL, []), ("v", FLOAT16, [4])], [("out", FLOAT16, [4])])
    return model(main, opset=17)


def scan_model(body_state_type):
    """`Scan(state, sequence)` with one scan input, whose body declares the state `s` as `body_state_type`
    (the node passes fp16)."""
    body = graph([node("Identity", ["s"], ["s_out"], name="body_state"), node("Identity", ["e"], ["e_out"], name="body_element")],
                 [("s", body_state_type, [4]), ("e", FLOAT16, [4])], [("s_out", body_state_type, [4]), ("e_out", FLOAT16, [4])],
                 name="scan_body")
    main = graph([node("Scan", ["state", "sequence"], ["final", "scanned"], name="scan_0", body=("graph", body), num_scan_inputs=1)],
                 [("state", FLOAT16, [4]), ("sequence", FLOAT16, [3, 4])], [("final", FLOAT16, [4]), ("scanned", FLOAT16, [3, 4])])
    return model(main, opset=17)


def external(present):
    w = tensor("w", FLOAT16, [4, 4], external=("external_data_%s.bin" % ("present" if present else "missing"), 0, 32))
    return model(graph([node("MatMul", ["x", "w"], ["y"], name="matmul_0")], [("x", FLOAT16, [2, 4])],
                       [("y", FLOAT16, [2, 4])], [w]), opset=17)


def scale_add_call(constant_type):
    body = [node("Constant", [], ["k"], name="f_const", value=("tensor", tensor("k", constant_type, [1]))),
            node("Mul", ["x", "k"], ["t"], name="f_mul"), node("Add", ["t", "x"], ["y"], name="f_add")]
    fn = function("ScaleAdd", "local", ["x"], ["y"], body, opset=17)
    main = graph([node("ScaleAdd", ["a"], ["b"], name="call_0", domain="local")], [("a", FLOAT16, [4])], [("b", FLOAT16, [4])])
    return model(main, opset=17, extra_opsets=[("local", 1)], functions=[fn])


def nested_ifs(depth):
    leaf = graph([node("Identity", ["x"], ["out"], name="leaf")], [], [("out", FLOAT, [1])], name="leaf")
    inner = leaf
    for level in range(depth):
        inner = graph([node("If", ["cond"], ["out"], name="if_%d" % level, then_branch=("graph", inner),
                            else_branch=("graph", leaf))], [], [("out", FLOAT, [1])], name="level_%d" % level)
    return model(graph([node("If", ["cond"], ["y"], name="outer", then_branch=("graph", inner), else_branch=("graph", leaf))],
                       [("cond", BOOL, []), ("x", FLOAT, [1])], [("y", FLOAT, [1])]), opset=17)


MODELS = {
    "add_fp16.onnx": binary("Add", FLOAT16, FLOAT16, False),
    "add_fp32.onnx": binary("Add", FLOAT, FLOAT, False),
    "add_fp16_fp32_initializer.onnx": binary("Add", FLOAT16, FLOAT, True),
    "add_fp16_fp16_initializer.onnx": binary("Add", FLOAT16, FLOAT16, True),
    "add_fp16_opset30.onnx": binary("Add", FLOAT16, FLOAT16, False, opset=30),
    "pow_fp16_fp32_exponent.onnx": binary("Pow", FLOAT16, FLOAT, True, opset=15),
    "max_variadic_mixed.onnx": model(graph([node("Max", ["a", "b", "c"], ["y"], name="max_0")],
                                           [("a", FLOAT16, [4]), ("b", FLOAT16, [4])], [("y", FLOAT16, [4])],
                                           [tensor("c", FLOAT, [4])])),
    # Cast(to=99): no TensorProto.DataType has that number.
    "cast_to_undefined_type.onnx": model(graph([node("Cast", ["x"], ["c"], name="cast_0", to=99)], [("x", FLOAT, [4])], [("c", FLOAT, [4])])),
    "cast_to_fp32_declared_fp16.onnx": model(graph([node("Cast", ["x"], ["c"], name="cast_0", to=FLOAT)],
                                                   [("x", FLOAT16, [4])], [("c", FLOAT16, [4])])),
    "cast_to_fp16_declared_fp16.onnx": model(graph([node("Cast", ["x"], ["c"], name="cast_0", to=FLOAT16)],
                                                   [("x", FLOAT, [4])], [("c", FLOAT16, [4])])),
    "resize_fp16_scales.onnx": model(graph([node("Resize", ["x", "", "scales"], ["y"], name="resize_0")],
                                           [("x", FLOAT16, [1, 1, 2, 2])], [("y", FLOAT16, [1, 1, 4, 4])],
                                           [tensor("scales", FLOAT16, [4], values=[1, 1, 2, 2])]), opset=13),
    "resize_fp32_scales.onnx": model(graph([node("Resize", ["x", "", "scales"], ["y"], name="resize_0")],
                                           [("x", FLOAT16, [1, 1, 2, 2])], [("y", FLOAT16, [1, 1, 4, 4])],
                                           [tensor("scales", FLOAT, [4], values=[1, 1, 2, 2])]), opset=13),
    "gemm_bf16.onnx": gemm(BFLOAT16),
    "gemm_fp16.onnx": gemm(FLOAT16),
    "leaky_relu_bf16.onnx": unary("LeakyRelu", BFLOAT16, alpha=0.1),
    "gelu_opset17.onnx": unary("Gelu", FLOAT, opset=17),
    # Below opset 6 the Casts onnxruntime inserts around an fp16 node without an fp16 kernel are invalid.
    "abs_fp16_opset5.onnx": unary("Abs", FLOAT16, opset=5),
    # Mish has no kernel: its function body runs, and Softplus has no bf16 kernel.
    "mish_bf16_opset22.onnx": unary("Mish", BFLOAT16, opset=22),
    # HardSigmoid-22 has only a float32 kernel, and its body (written for opset 18) calls CastLike, which
    # changed since: onnxruntime does not expand it.
    "hard_sigmoid_fp64_opset22.onnx": unary("HardSigmoid", DOUBLE, opset=22),
    # No bf16 kernel, but the body casts to float32 first: onnxruntime runs it.
    "reduce_log_sum_exp_bf16_opset18.onnx": unary("ReduceLogSumExp", BFLOAT16, opset=18, keepdims=1),
    # The schema leaves `hidden_size` optional; onnxruntime's GRU kernel does not.
    "gru_without_hidden_size.onnx": model(graph([node("GRU", ["x", "w", "r"], ["y"], name="gru_0")],
                                                [("x", FLOAT, [2, 1, 4]), ("w", FLOAT, [1, 9, 4]), ("r", FLOAT, [1, 9, 3])], [("y", FLOAT, [2, 1, 1, 3])]), opset=14),
    "gru_with_hidden_size.onnx": model(graph([node("GRU", ["x", "w", "r"], ["y"], name="gru_0", hidden_size=3)],
                                             [("x", FLOAT, [2, 1, 4]), ("w", FLOAT, [1, 9, 4]), ("r", FLOAT, [1, 9, 3])], [("y", FLOAT, [2, 1, 1, 3])]), opset=14),
    # Resize-13 makes roi, scales and sizes optional, but the kernel reads a `scales` attribute from a one-input
    # node. (With x's rank known, shape inference refuses the node first.)
    "resize_without_sizes.onnx": model(graph([node("Resize", ["x"], ["y"], name="resize_0")],
                                             [("x", FLOAT, None)], [("y", FLOAT, None)]), opset=13),
    "resize_with_sizes.onnx": model(graph([node("Resize", ["x", "", "", "sizes"], ["y"], name="resize_0")],
                                          [("x", FLOAT, [1, 1, 2, 2])], [("y", FLOAT, [1, 1, 4, 4])],
                                          [tensor("sizes", INT64, [4], values=[1, 1, 4, 4])]), opset=13),
    # OneHotEncoder declares both category lists optional; its inference function needs exactly one of them.
    "one_hot_encoder_without_categories.onnx": model(graph([node("OneHotEncoder", ["x"], ["y"], name="one_hot_0", domain="ai.onnx.ml")],
                                                           [("x", INT64, [3])], [("y", FLOAT, [3, 3])]),
                                                     extra_opsets=[("ai.onnx.ml", 1)]),
    "one_hot_encoder_with_categories.onnx": model(graph([node("OneHotEncoder", ["x"], ["y"], name="one_hot_0", domain="ai.onnx.ml",
                                                              cats_int64s=[1, 2, 3])],
                                                        [("x", INT64, [3])], [("y", FLOAT, [3, 3])]),
                                                  extra_opsets=[("ai.onnx.ml", 1)]),
    # ReduceMean-18 takes axes as its second input; the attribute of ReduceMean-13 is unknown to it.
    "reduce_mean_axes_attribute_opset18.onnx": model(graph([node("ReduceMean", ["x"], ["y"], name="reduce_mean_0", axes=[1])],
                                                           [("x", FLOAT, [2, 3])], [("y", FLOAT, [2, 1])]), opset=18),
    "reduce_mean_axes_attribute_opset13.onnx": model(graph([node("ReduceMean", ["x"], ["y"], name="reduce_mean_0", axes=[1])],
                                                           [("x", FLOAT, [2, 3])], [("y", FLOAT, [2, 1])]), opset=13),
    # Cast's `to` is required.
    "cast_without_to.onnx": model(graph([node("Cast", ["x"], ["y"], name="cast_0")], [("x", FLOAT, [4])], [("y", FLOAT16, [4])]), opset=17),
    "constant_without_value.onnx": model(graph([node("Constant", [], ["c"], name="constant_0"), node("Add", ["x", "c"], ["y"], name="add_0")],
                                               [("x", FLOAT, [4])], [("y", FLOAT, [4])]), opset=17),
    "adagrad_preview_training.onnx": model(graph(
        [node("Adagrad", ["r", "t", "x", "g", "h"], ["x_new", "h_new"], name="adagrad_0", domain="ai.onnx.preview.training")],
        [("r", FLOAT, []), ("t", INT64, []), ("x", FLOAT, [4]), ("g", FLOAT, [4]), ("h", FLOAT, [4])],
        [("x_new", FLOAT, [4]), ("h_new", FLOAT, [4])]), extra_opsets=[("ai.onnx.preview.training", 1)]),
    "upsample_opset10.onnx": model(graph([node("Upsample", ["x", "scales"], ["y"], name="upsample_0")],
                                         [("x", FLOAT, [1, 1, 2, 2])], [("y", FLOAT, [1, 1, 4, 4])],
                                         [tensor("scales", FLOAT, [4], values=[1, 1, 2, 2])]), opset=10),
    "if_branches_disagree.onnx": if_model(True),
    "if_branches_agree.onnx": if_model(False),
    "loop_body_declares_fp32_state.onnx": loop_model(FLOAT),
    "loop_body_agrees.onnx": loop_model(FLOAT16),
    "scan_body_declares_fp32_state.onnx": scan_model(FLOAT),
    "scan_body_agrees.onnx": scan_model(FLOAT16),
    "external_data_missing.onnx": external(False),
    "external_data_present.onnx": external(True),
    "overridable_input_conflict.onnx": model(graph([node("Add", ["x", "w"], ["y"], name="add_0")],
                                                   [("x", FLOAT, [4]), ("w", FLOAT, [4])], [("y", FLOAT, [4])],
                                                   [tensor("w", FLOAT16, [4])]), opset=17),
    "add_fp16_fp32_sparse_initializer.onnx": model(graph([node("Add", ["a", "b"], ["y"], name="add_0")], [("a", FLOAT16, [4])],
                                                         [("y", FLOAT16, [4])], sparse_initializers=[sparse_tensor("b", FLOAT, [4], [1, 3])])),
    "local_function_fp32_constant.onnx": scale_add_call(FLOAT),
    "local_function_fp16_constant.onnx": scale_add_call(FLOAT16),
}


def broken_models():
    valid = MODELS["add_fp16_fp32_initializer.onnx"]
    return {
        # Cut inside the graph message.
        "truncated.onnx": valid[: len(valid) // 2],
        # ir_version, then the graph (field 7) written as a varint instead of a message.
        "wrong_wire_type.onnx": int_field(1, 8) + int_field(7, 5),
        # ir_version, then a graph claiming a length of 2^40 bytes.
        "absurd_length.onnx": int_field(1, 8) + key(7, 2) + varint(1 << 40) + b"\x0a\x00",
        # If nodes nested 200 levels deep.
        "deep_nesting.onnx": nested_ifs(200),
        # A varint that never ends.
        "endless_varint.onnx": int_field(1, 8) + key(5, 0) + b"\xff" * 16,
    }


def write(folder, name, data):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as handle:
        handle.write(data)


def main():
    models = os.path.join(EXAMPLES, "models")
    for name, data in sorted(MODELS.items()):
        write(models, name, data)
    write(models, "external_data_present.bin", bytes(32))
    for name, data in sorted(broken_models().items()):
        write(os.path.join(EXAMPLES, "broken"), name, data)


if __name__ == "__main__":
    main()
