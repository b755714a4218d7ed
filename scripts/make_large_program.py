#!/usr/bin/env python3
"""Write a torch.export archive of N residual blocks, for benchmarks that scale with the node count.

    python3 scripts/make_large_program.py BLOCKS OUT.pt2 [--layout pt2|torch27] [--dtype fp16|fp32]

Each block is what `torch.export` (ATEN dialect) writes for
`x = x + self.scale * self.act2(self.fc2(self.act1(self.fc1(self.ln(x)))))` followed by a LeakyReLU:
layer_norm, linear, leaky_relu, linear, leaky_relu, mul, add, leaky_relu (8 nodes), between an input and
an output projection (2 nodes): 1,000 blocks are 8,002 nodes. Every node carries the metadata torch 2.13
writes (a two-frame stack trace, the nn_module_stack, torch_fn and from_node), so that the program's
bytes per node are a real export's (about 1 KB). Standard library only; the archive is written by
make_example_models.py's writer, in either layout.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_example_models import Program, save  # noqa: E402

WIDTH = 16
SHAPE = [1, WIDTH]
FILE = "/workspace/project/model.py"
TORCH = "/venv/lib/python3.11/site-packages/torch/nn/modules"


def node(program, target, args, output, dtype, module_path, module_type, line, code, library):
    program.node(target, args, [(output, dtype, SHAPE)], module=(module_path, module_type), line=line, code=code)
    meta = program.nodes[-1]["metadata"]
    # torch 2.13's metadata: the user frame, then the module's own; the module stack from the root.
    meta["stack_trace"] = (f'File "{FILE}", line {line}, in forward\n    {code}\n'
                           f'File "{TORCH}/{library[0]}", line {library[1]}, in forward\n    {library[2]}')
    parts, stack = module_path.split("."), ["L__self__,,model.Net"]
    for depth in range(1, len(parts) + 1):
        path = ".".join(parts[:depth])
        kind = module_type if depth == len(parts) else "model.Block"
        stack.append(f"L__self___{'_'.join(parts[:depth])},{path},{kind}")
    meta["nn_module_stack"] = ";".join(stack)
    meta["torch_fn"] = f"{output};{target.split('.')[-2]}"
    meta["from_node"] = json.dumps([{"name": output, "target": target[len("torch.ops."):], "graph_id": 139934055944400,
                                     "pass_name": "Interpreter_PropagateUnbackedSymInts", "action": "create",
                                     "from_node": []}])


def program(blocks, dtype):
    p = Program("large")
    x = p.user_input("x", dtype, SHAPE)

    def linear(prefix, source, output, line):
        w = p.parameter(f"{prefix}.weight", dtype, [WIDTH, WIDTH])
        b = p.parameter(f"{prefix}.bias", dtype, [WIDTH])
        node(p, "torch.ops.aten.linear.default", [("input", source), ("weight", w), ("bias", b)], output, dtype, prefix,
             "torch.nn.modules.linear.Linear", line, f"return self.{prefix.split('.')[-1]}(x)",
             ("linear.py", 134, "return F.linear(input, self.weight, self.bias)"))
        return output

    def leaky(prefix, source, output, line):
        node(p, "torch.ops.aten.leaky_relu.default", [("self", source), ("negative_slope", 0.1)], output, dtype, prefix,
             "torch.nn.modules.activation.LeakyReLU", line, "x = self.act(x)",
             ("activation.py", 880, "return F.leaky_relu(input, self.negative_slope, self.inplace)"))
        return output

    x = linear("proj_in", x, "linear", 30)
    for i in range(blocks):
        b = f"blocks.{i}"
        w = p.parameter(f"{b}.ln.weight", dtype, [WIDTH])
        bias = p.parameter(f"{b}.ln.bias", dtype, [WIDTH])
        node(p, "torch.ops.aten.layer_norm.default",
             [("input", x), ("normalized_shape", [WIDTH]), ("weight", w), ("bias", bias), ("eps", 1e-05), ("cudnn_enable", False)],
             f"layer_norm_{i}", dtype, f"{b}.ln", "torch.nn.modules.normalization.LayerNorm", 12, "h = self.ln(x)",
             ("normalization.py", 228, "return F.layer_norm("))
        h = linear(f"{b}.fc1", f"layer_norm_{i}", f"linear_{2 * i + 1}", 13)
        h = leaky(f"{b}.act1", h, f"leaky_relu_{3 * i}", 14)
        h = linear(f"{b}.fc2", h, f"linear_{2 * i + 2}", 15)
        h = leaky(f"{b}.act2", h, f"leaky_relu_{3 * i + 1}", 16)
        node(p, "torch.ops.aten.mul.Tensor", [("self", h), ("other", 0.5)], f"mul_{i}", dtype, b, "model.Block", 17,
             "return x + self.scale * h", ("module.py", 1786, "return forward_call(*args, **kwargs)"))
        node(p, "torch.ops.aten.add.Tensor", [("self", x), ("other", f"mul_{i}")], f"add_{i}", dtype, b, "model.Block", 17,
             "return x + self.scale * h", ("module.py", 1786, "return forward_call(*args, **kwargs)"))
        x = leaky(f"{b}.act3", f"add_{i}", f"leaky_relu_{3 * i + 2}", 18)
    x = linear("proj_out", x, f"linear_{2 * blocks + 1}", 32)
    p.output(x)
    return p


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("blocks", type=int)
    parser.add_argument("output")
    parser.add_argument("--layout", choices=["pt2", "torch27"], default="pt2")
    parser.add_argument("--dtype", choices=["fp16", "fp32"], default="fp16")
    args = parser.parse_args()
    p = program(args.blocks, args.dtype)
    save(p, args.output, legacy=args.layout == "torch27")
    print(f"{args.output}: {len(p.nodes)} nodes, {args.layout} layout, {args.dtype}")


if __name__ == "__main__":
    main()
