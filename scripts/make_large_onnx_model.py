#!/usr/bin/env python3
"""Write a large fp32 ONNX model for benchmarks (never committed):

    python3 scripts/make_large_onnx_model.py OUT.onnx [SIZE_MB] [--mixed]   # default 1024 MB of weights

A chain of MatMul + Add + Relu layers on 4096-wide activations, whose 4096x4096 fp32 weights total about
SIZE_MB. Standard library only; the weights are streamed to disk in chunks (a repeating non-zero
pattern), so writing a 1 GB model needs no 1 GB of memory. With --mixed the first bias is stored as fp16, the
damage an fp16 conversion leaves (onnxruntime refuses the Add): a model for benchmarking `tensorlint fix`.
"""
import struct
import sys

from make_example_onnx_models import FLOAT, FLOAT16, bytes_field, graph, int_field, key, node, tensor, value_info, varint

WIDTH = 4096
CHUNK = struct.pack("<1024f", *[((i * 37) % 101 - 50) / 5000.0 for i in range(1024)])


def weight_header(name):
    """A TensorProto with raw_data whose payload is written separately: header bytes and payload length."""
    payload = WIDTH * WIDTH * 4
    header = int_field(1, WIDTH) + int_field(1, WIDTH) + int_field(2, FLOAT) + bytes_field(8, name)
    header += key(9, 2) + varint(payload)
    return header, payload


def main():
    mixed = "--mixed" in sys.argv
    arguments = [argument for argument in sys.argv[1:] if argument != "--mixed"]
    out, size_mb = arguments[0], int(arguments[1]) if len(arguments) > 1 else 1024
    layers = max(1, round(size_mb * 1024 * 1024 / (WIDTH * WIDTH * 4)))
    nodes, small = [], []
    current = "x"
    for layer in range(layers):
        nodes += [node("MatMul", [current, "w%d" % layer], ["m%d" % layer], name="matmul_%d" % layer),
                  node("Add", ["m%d" % layer, "b%d" % layer], ["a%d" % layer], name="add_%d" % layer),
                  node("Relu", ["a%d" % layer], ["r%d" % layer], name="relu_%d" % layer)]
        small.append(tensor("b%d" % layer, FLOAT16 if mixed and layer == 0 else FLOAT, [WIDTH]))
        current = "r%d" % layer
    rest = graph(nodes, [("x", FLOAT, [1, WIDTH])], [(current, FLOAT, [1, WIDTH])], small, name="large")
    weights = [weight_header("w%d" % layer) for layer in range(layers)]
    # GraphProto = the weights' initializer fields (field 5) + everything else; its length is known up front.
    initializer_fields = [(key(5, 2) + varint(len(h) + p), h, p) for h, p in weights]
    graph_length = len(rest) + sum(len(k) + len(h) + p for k, h, p in initializer_fields)
    with open(out, "wb") as handle:
        handle.write(int_field(1, 8) + bytes_field(2, "tensorlint-benchmark"))
        handle.write(key(7, 2) + varint(graph_length))
        handle.write(rest)
        for field_key, header, payload in initializer_fields:
            handle.write(field_key + header)
            for _ in range(payload // len(CHUNK)):
                handle.write(CHUNK)
        handle.write(bytes_field(8, int_field(2, 17)))
    print("%s: %d layers, %.0f MB" % (out, layers, (graph_length + 32) / 1e6))


if __name__ == "__main__":
    main()
