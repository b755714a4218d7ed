#!/usr/bin/env python3
"""Generate tensorlint's ONNX and onnxruntime knowledge tables from the installed packages.

    python3 -m venv /tmp/ort && /tmp/ort/bin/pip install onnx==1.23.2 onnxruntime==1.32.0
    /tmp/ort/bin/python scripts/generate_onnx_knowledge.py

Writes two JSON Lines files: a header object on the first line, then one line per operator, so that
tensorlint decodes only the operators a model uses.
  rules/knowledge/onnx-<version>/operator-schemas.jsonl
      every operator schema version in onnx.defs (all domains): formal inputs and outputs with their type
      parameter, option (single/optional/variadic) and homogeneity, the allowed types of each type
      parameter, attribute types, deprecation, and the schema's function bodies by opset (what a runtime
      expands the node into when it has no kernel for it)
  rules/knowledge/onnxruntime-<version>/cpu-kernels.jsonl
      every kernel the CPU execution provider registers (onnxruntime.capi...get_all_opkernel_def()):
      op, domain, since-version range and the types bound to each type parameter; and the newest opset per
      domain that onnxruntime officially supports (its own schema registry)

Types are written with tensorlint's dtype names (float32, float16, bfloat16 …); non-tensor types keep
their ONNX spelling (seq(tensor(float)) …). Running it again on the same versions gives identical files.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# ONNX element type spelling (tensor(float)) -> tensorlint DType raw value.
ELEMENT_NAMES = {
    "float": "float32", "float16": "float16", "bfloat16": "bfloat16", "double": "float64",
    "int8": "int8", "int16": "int16", "int32": "int32", "int64": "int64",
    "uint8": "uint8", "uint16": "uint16", "uint32": "uint32", "uint64": "uint64",
    "bool": "bool", "string": "string", "complex64": "complex64", "complex128": "complex128",
    "float8e4m3fn": "float8e4m3fn", "float8e4m3fnuz": "float8e4m3fnuz", "float8e5m2": "float8e5m2",
    "float8e5m2fnuz": "float8e5m2fnuz", "float8e8m0": "float8e8m0fnu",
}


def type_name(onnx_type):
    """tensor(float) -> float32; anything that is not a plain tensor stays as ONNX spells it."""
    if onnx_type.startswith("tensor(") and onnx_type.endswith(")"):
        element = onnx_type[len("tensor("):-1]
        return ELEMENT_NAMES.get(element, element)
    return onnx_type


def option_name(option):
    return {0: "single", 1: "optional", 2: "variadic"}[int(option.value)]


def formal(parameter):
    return [parameter.name, parameter.type_str, option_name(parameter.option), bool(parameter.is_homogeneous)]


def body_attribute(attribute, onnx):
    """What a type checker needs of a body node's attribute: a reference to the calling node's attribute
    (`@alpha`), an INT's value (Cast `to`), a tensor's element type, or only that it is there."""
    if attribute.ref_attr_name:
        return "@" + attribute.ref_attr_name
    if attribute.type == onnx.AttributeProto.INT:
        return attribute.i
    if attribute.type == onnx.AttributeProto.TENSOR:
        return {"tensor": type_name("tensor(%s)" % onnx.TensorProto.DataType.Name(attribute.t.data_type).lower())}
    return True


def body(function, onnx):
    """A function body as the type checker walks it: formal inputs and outputs, and each node's op, domain,
    inputs, outputs and attributes."""
    nodes = []
    for node in function.node:
        entry = {"op": node.op_type, "in": list(node.input), "out": list(node.output)}
        if node.domain not in ("", "ai.onnx"):
            entry["domain"] = node.domain
        attributes = {attribute.name: body_attribute(attribute, onnx) for attribute in node.attribute}
        if attributes:
            entry["attr"] = dict(sorted(attributes.items()))
        nodes.append(entry)
    return {"inputs": list(function.input), "outputs": list(function.output), "nodes": nodes}


# The element types a context-dependent body is built for (its first input's type), as the runtime builds it
# for the node's own types.
BUILT_TYPES = ["float", "float16", "double", "bfloat16", "int32", "int64"]


def context_bodies(schema, opset, onnx):
    """A context-dependent body as onnx builds it for a node, for each number of leading inputs present and
    each element type in BUILT_TYPES the first input allows, with default attributes; variants that build the
    same body are one entry (`present`, `types`). A variant the builder refuses with default attributes has
    `nodes` null: a node without attributes then has no body, one with attributes is taken to run."""
    constraints = {c.type_param_str: list(c.allowed_type_strs) for c in schema.type_constraints}
    required = next((i for i, p in enumerate(schema.inputs) if p.option != onnx.defs.OpSchema.FormalParameterOption.Single),
                    len(schema.inputs))
    first = schema.inputs[0].type_str if schema.inputs else None
    variants = {}
    for present in range(required, len(schema.inputs) + 1):
        for element in BUILT_TYPES:
            if first is not None and "tensor(%s)" % element not in constraints.get(first, [first]):
                continue
            types = []
            for parameter in schema.inputs[:present]:
                allowed = constraints.get(parameter.type_str, [parameter.type_str])
                chosen = "tensor(%s)" % element if "tensor(%s)" % element in allowed else next(
                    (t for t in allowed if t.startswith("tensor(")), None)
                if chosen is None:
                    break
                name = chosen[len("tensor("):-1]
                types.append(onnx.helper.make_tensor_type_proto(getattr(onnx.TensorProto, name.upper() if name != "float" else "FLOAT"),
                                                                None).SerializeToString())
            else:
                node = onnx.helper.make_node(schema.name, [p.name for p in schema.inputs[:present]], [p.name for p in schema.outputs],
                                             domain=schema.domain)
                try:
                    built = body(onnx.FunctionProto.FromString(schema.get_context_dependent_function_with_opset_version(
                        opset, node.SerializeToString(), types)), onnx)
                except Exception:  # noqa: BLE001 (refused without attributes or constant inputs: no body then)
                    built = {"nodes": []}
                if not built["nodes"]:  # the builder returned false (an empty body): the node has no function
                    built = {"inputs": [p.name for p in schema.inputs], "outputs": [p.name for p in schema.outputs], "nodes": None}
                entry = variants.setdefault(json.dumps(built, sort_keys=True), dict(built, present=[], types=[]))
                if present not in entry["present"]:
                    entry["present"].append(present)
                if type_name("tensor(%s)" % element) not in entry["types"]:
                    entry["types"].append(type_name("tensor(%s)" % element))
    return [dict(opset=opset, context=True, **entry) for entry in variants.values()]


def functions(schema, onnx):
    """The schema's function bodies by the opset they are written for, oldest first. onnxruntime expands a
    node into one when no kernel takes it: a static body only while the ops it calls are the same at the
    model's opset (OpSchema::GetFunction validates this); a context-dependent body as built for the node
    (context_bodies)."""
    bodies = []
    for opset in schema.function_opset_versions:
        bodies.append(dict(opset=opset, context=False, **body(onnx.FunctionProto.FromString(
            schema.get_function_with_opset_version(opset)), onnx)))
    for opset in schema.context_dependent_function_opset_versions:
        bodies += context_bodies(schema, opset, onnx)
    return sorted(bodies, key=lambda entry: (entry["opset"], entry["context"]))


def allows_unchecked_attributes(schema, onnx):
    """Whether OpSchema::Verify lets a node carry attributes the schema does not declare (AllowUncheckedAttributes,
    which Python does not expose): found by checking a node with the fewest inputs and outputs the schema takes
    and one undeclared attribute, which Verify examines before anything else it could refuse there. A deprecated
    schema is refused before Verify runs."""
    if schema.deprecated:
        return False
    import onnx.checker
    import onnx.helper
    node = onnx.helper.make_node(schema.name, ["x%d" % index for index in range(schema.min_input)],
                                 ["y%d" % index for index in range(schema.min_output)], domain=schema.domain,
                                 tensorlint_probe=1)
    context = onnx.checker.C.CheckerContext()
    context.ir_version = onnx.IR_VERSION
    context.opset_imports = {schema.domain: schema.since_version, "": 21} if schema.domain else {"": schema.since_version}
    try:
        onnx.checker.check_node(node, context)
    except onnx.checker.ValidationError as error:
        if "Unrecognized attribute: tensorlint_probe" in str(error):
            return False
        # Anything else would leave the question open: fail rather than guess either way.
        sys.exit("generate_onnx_knowledge.py: probing %s-%d for unchecked attributes failed otherwise: %s"
                 % (schema.name, schema.since_version, str(error).splitlines()[0]))
    return True


def operator_schemas(onnx):
    import onnx.defs
    schemas = {}
    for schema in onnx.defs.get_all_schemas_with_history():
        domain = schema.domain or "ai.onnx"
        entry = {
            "since": schema.since_version,
            "inputs": [formal(p) for p in schema.inputs],
            "outputs": [formal(p) for p in schema.outputs],
            "constraints": {c.type_param_str: sorted(type_name(t) for t in c.allowed_type_strs)
                            for c in schema.type_constraints},
            "attributes": {name: attribute.type.name.lower() for name, attribute in sorted(schema.attributes.items())},
        }
        defaults = sorted(name for name, attribute in schema.attributes.items() if attribute.default_value.type)
        if defaults:  # a node that leaves these out gets the default (what a function body's references then read)
            entry["defaults"] = defaults
        required = sorted(name for name, attribute in schema.attributes.items() if attribute.required)
        if required:  # OpSchema::Verify: "Required attribute 'X' is missing."
            entry["required"] = required
        if allows_unchecked_attributes(schema, onnx):
            entry["unchecked_attributes"] = True
        if schema.deprecated:
            entry["deprecated"] = True
        if schema.has_function or schema.has_context_dependent_function:
            entry["functions"] = functions(schema, onnx)
        schemas.setdefault(domain, {}).setdefault(schema.name, []).append(entry)
    for ops in schemas.values():
        for versions in ops.values():
            versions.sort(key=lambda entry: entry["since"])
    data_types = {str(number): type_name("tensor(%s)" % name.lower())
                  for name, number in onnx.TensorProto.DataType.items() if number != 0}
    return {
        "generator": "scripts/generate_onnx_knowledge.py",
        "onnx_version": onnx.__version__,
        "opset_range": {domain: [min(e["since"] for versions in ops.values() for e in versions),
                                 max(e["since"] for versions in ops.values() for e in versions)]
                        for domain, ops in sorted(schemas.items())},
        "data_types": dict(sorted(data_types.items(), key=lambda item: int(item[0]))),
        "schemas": {domain: dict(sorted(ops.items())) for domain, ops in sorted(schemas.items())},
    }


def released_opset(onnxruntime, domain, newest):
    """The newest opset of the domain that onnxruntime loads: its schemas may already hold an opset that was
    still being developed in the onnx it embeds, and ValidateOpsetForDomain refuses that ("Opset 27 is under
    development"). Found by loading an empty model importing each opset from the newest down (the check is in
    the C++ model loader, and the released-version map it reads is not exposed to Python)."""
    def field(number, payload):
        return varint((number << 3) | 2) + varint(len(payload)) + payload

    def varint(value):
        out = b""
        while True:
            byte = value & 0x7F
            value >>= 7
            out += bytes([byte | (0x80 if value else 0)])
            if not value:
                return out

    onnxruntime.set_default_logger_severity(4)  # the probes' own failures are not news
    for opset in range(newest, 0, -1):
        opset_import = (b"" if domain == "ai.onnx" else field(1, domain.encode())) + varint(2 << 3) + varint(opset)
        model = varint(1 << 3) + varint(8) + field(7, field(2, b"probe")) + field(8, opset_import)
        try:
            onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
        except Exception as error:  # an empty graph may fail later, for reasons of its own
            if "is under development" in str(error):
                continue
        return opset
    return newest


def cpu_kernels(onnxruntime, onnx):
    import onnxruntime.capi.onnxruntime_pybind11_state as state
    kernels = {}
    for kernel in state.get_all_opkernel_def():
        if kernel.provider != "CPUExecutionProvider":
            continue
        low, high = kernel.version_range
        constraints = {name: sorted(type_name(t) for t in types) for name, types in sorted(kernel.type_constraints.items())}
        kernels.setdefault(kernel.domain or "ai.onnx", {}).setdefault(kernel.op_name, []).append(
            [low, None if high >= 2147483647 else high, constraints])
    for ops in kernels.values():
        for rows in ops.values():
            rows.sort(key=lambda row: (row[0], json.dumps(row[2], sort_keys=True)))
    newest = {}
    registry = state.get_all_operator_schema()
    for schema in registry:
        domain = schema.domain or "ai.onnx"
        newest[domain] = max(newest.get(domain, 0), schema.since_version)
    newest = {domain: released_opset(onnxruntime, domain, opset) for domain, opset in newest.items()}
    return {
        "generator": "scripts/generate_onnx_knowledge.py",
        "onnxruntime_version": onnxruntime.__version__,
        # The schema folder these kernels are checked against: the onnx release this runtime was installed with.
        "onnx_knowledge": "onnx-%s" % onnx.__version__ if onnx else None,
        "execution_provider": "CPUExecutionProvider",
        "newest_supported_opset": dict(sorted(newest.items())),
        # A node of any other domain is "not a registered function/op".
        "registered_domains": sorted({schema.domain or "ai.onnx" for schema in registry}),
        "kernels": {domain: dict(sorted(ops.items())) for domain, ops in sorted(kernels.items())},
    }


def write(path, data, table, row_key):
    """The header (data without `table`) on the first line, then {"domain", "op", row_key} per operator."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    header = {name: value for name, value in data.items() if name != table}
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(header, separators=(",", ":")) + "\n")
        for domain, ops in data[table].items():
            for op, rows in ops.items():
                handle.write(json.dumps({"domain": domain, "op": op, row_key: rows}, separators=(",", ":")) + "\n")
    print("wrote", os.path.relpath(path, REPO))


def registry_signature(schemas):
    """What identifies the onnx release a schema registry was built from: each standard schema's name, version,
    type constraints, deprecation, arity and attribute names (onnxruntime's registry adds a few experimental ops
    of its own and leaves out the preview domains, so the nearest release is the one it was built with)."""
    rows = []
    for schema in schemas:
        domain = schema.domain or "ai.onnx"
        if domain not in ("ai.onnx", "ai.onnx.ml"):
            continue
        constraints = sorted([c.type_param_str, sorted(c.allowed_type_strs)] for c in schema.type_constraints)
        rows.append(json.dumps([domain, schema.name, schema.since_version, constraints, bool(schema.deprecated),
                                len(schema.inputs), len(schema.outputs), sorted(schema.attributes)]))
    return sorted(set(rows))


def dump(path, package):
    """One package's tables and registry signature as a JSON document, for scripts/onnxruntime_versions.py,
    which runs this script once per installed release."""
    if package == "onnx":
        import onnx
        import onnx.defs
        import onnx.helper
        data = {"schemas": operator_schemas(onnx), "signature": registry_signature(onnx.defs.get_all_schemas_with_history())}
    else:
        import onnxruntime
        import onnxruntime.capi.onnxruntime_pybind11_state as state
        registry = state.get_all_operator_schema()
        data = {"kernels": cpu_kernels(onnxruntime, None), "signature": registry_signature(registry)}
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(REPO, "rules", "knowledge"))
    parser.add_argument("--dump", nargs=2, metavar=("PACKAGE", "FILE"),
                        help="write the tables of the installed onnx or onnxruntime (PACKAGE) to FILE as JSON instead")
    args = parser.parse_args()
    if args.dump:
        dump(args.dump[1], args.dump[0])
        return
    import onnx
    import onnx.helper
    import onnxruntime
    write(os.path.join(args.out, "onnx-%s" % onnx.__version__, "operator-schemas.jsonl"), operator_schemas(onnx),
          "schemas", "versions")
    write(os.path.join(args.out, "onnxruntime-%s" % onnxruntime.__version__, "cpu-kernels.jsonl"), cpu_kernels(onnxruntime, onnx),
          "kernels", "kernels")


if __name__ == "__main__":
    main()
