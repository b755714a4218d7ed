#!/usr/bin/env python3
"""Test models for onnxruntime's kernel lookup, one small model per case, built with onnx.helper.

    python3 -m venv /tmp/families && /tmp/families/bin/pip install onnx==1.23.2
    /tmp/families/bin/python scripts/make_onnxruntime_family_models.py /tmp/families/corpus/models

Writes the models and, beside the folder, cases.jsonl (the corpus's case format), so that the folder above it
is a corpus that scripts/onnxruntime_versions.py labels (labels/onnxruntime/families.jsonl) and scores. The
models are made with onnx 1.23.2's schemas, and those labels are of these exact files: another onnx release
makes other models, which the script refuses.

Families (the file name starts with the family):
  kernel    every schema version of every op of the standard domains, at the opset where it comes in, with
            each type parameter bound in turn to each element type it allows (one binding a model: every type
            parameter the same type where it allows it, else its first allowed type). onnxruntime needs a kernel
            for that (domain, op, since-version, binding), or a function body whose ops have theirs.
  newest    the same at the newest opset the onnx release defines, where the newest schema version is in force.
  domain    an op of each domain that onnx defines and onnxruntime does not register, and of a custom domain.
  attributes  ops whose attributes the schema leaves optional while onnx's inference function or onnxruntime's
            CPU kernel constructor needs some of them, each with attribute sets that leave out what is needed, set
            too much, and set what is needed; and nodes with attributes their schema does not declare or leaving
            out required ones (ATTRIBUTE_CASES).

In the kernel and newest families, ops whose schema needs what a generic builder cannot give are left out:
required attributes, or inputs or outputs that are not tensors (sequences, optionals, maps); the attributes
family sets them by hand. Labels come from running onnxruntime on the
files (scripts/onnxruntime_versions.py label --corpus <folder>), never from this script.
"""
import json
import os
import sys

import onnx
import onnx.defs
import onnx.helper as helper

ELEMENTS = {
    "tensor(float)": onnx.TensorProto.FLOAT, "tensor(float16)": onnx.TensorProto.FLOAT16,
    "tensor(bfloat16)": onnx.TensorProto.BFLOAT16, "tensor(double)": onnx.TensorProto.DOUBLE,
    "tensor(int64)": onnx.TensorProto.INT64, "tensor(int32)": onnx.TensorProto.INT32,
    "tensor(int8)": onnx.TensorProto.INT8, "tensor(uint8)": onnx.TensorProto.UINT8,
    "tensor(bool)": onnx.TensorProto.BOOL,
}
NAMES = {number: name[len("tensor("):-1] for name, number in ELEMENTS.items()}
IR_VERSION = 8  # read by every onnxruntime release from 1.18
ONNX_RELEASE = "1.23.2"


def formal_type(parameter, constraints, chosen):
    """The element type a formal parameter gets under the binding, or None when it is not a plain tensor."""
    if parameter.type_str in constraints:
        return chosen.get(parameter.type_str)
    return ELEMENTS.get(parameter.type_str)


def bindings(schema):
    """One binding per element type any type parameter allows: each parameter takes it where it can, else
    the first plain tensor type it allows."""
    constraints = {c.type_param_str: [t for t in c.allowed_type_strs] for c in schema.type_constraints}
    types = sorted({t for allowed in constraints.values() for t in allowed if t in ELEMENTS}, key=list(ELEMENTS).index)
    for element in types:
        chosen = {}
        for parameter, allowed in constraints.items():
            plain = [t for t in ELEMENTS if t in allowed]
            if element in allowed:
                chosen[parameter] = ELEMENTS[element]
            elif plain:
                chosen[parameter] = ELEMENTS[plain[0]]
        yield NAMES[ELEMENTS[element]], constraints, chosen


def build(schema, opset, constraints, chosen):
    """The model, or None when the schema needs what a generic builder cannot give."""
    if any(attribute.required for attribute in schema.attributes.values()):
        return None
    inputs, values = [], []
    for index, parameter in enumerate(schema.inputs):
        if parameter.option == onnx.defs.OpSchema.FormalParameterOption.Optional:
            break
        element = formal_type(parameter, constraints, chosen)
        if element is None:
            return None
        name = "x%d" % index
        inputs.append(name)
        values.append(helper.make_tensor_value_info(name, element, None))
    outputs = []
    for index, parameter in enumerate(schema.outputs):
        if parameter.option == onnx.defs.OpSchema.FormalParameterOption.Optional and index > 0:
            break
        if formal_type(parameter, constraints, chosen) is None and parameter.type_str not in constraints:
            return None
        outputs.append("y%d" % index)
    domain = "" if schema.domain in ("", "ai.onnx") else schema.domain
    node = helper.make_node(schema.name, inputs, outputs, name="node_0", domain=domain)
    graph = helper.make_graph([node], "main", values, [helper.make_empty_tensor_value_info(name) for name in outputs])
    opsets = [helper.make_opsetid(domain, opset)] + ([helper.make_opsetid("", 21)] if domain else [])
    return helper.make_model(graph, opset_imports=opsets, ir_version=IR_VERSION, producer_name="tensorlint-families")


F, I64, S = onnx.TensorProto.FLOAT, onnx.TensorProto.INT64, onnx.TensorProto.STRING
# (domain, op, opset, inputs, outputs, {case: attributes}). An input is an element type (a graph input), None
# (an empty name: an optional input left out) or (element type, values) (an initializer).
ATTRIBUTE_CASES = [
    ("", "Optional", 15, [], 1, {"none": {}, "type": {"type": helper.make_tensor_type_proto(F, None)}}),
    ("", "Optional", 15, [F], 1, {"input": {}}),
    ("", "Resize", 13, [F], 1, {"x_only": {}, "x_only_linear": {"mode": "linear"}}),
    ("", "Resize", 13, [F, None, None, (I64, [1, 1, 4, 4])], 1, {"sizes": {}}),
    ("", "Resize", 13, [F, None, (F, [1.0, 1.0, 2.0, 2.0])], 1, {"scales": {}}),
    ("", "Resize", 19, [F], 1, {"x_only": {}}),
    ("", "Resize", 19, [F, None, None, (I64, [1, 1, 4, 4])], 1, {"sizes": {}}),
    ("", "GRU", 14, [F, (F, [0.5] * 36), (F, [0.5] * 27)], 1, {"none": {}, "hidden_size": {"hidden_size": 3},
                                                             "hidden_size_0": {"hidden_size": 0}}),
    # OpSchema::Verify: attributes the schema does not declare, and required ones left out.
    ("", "ReduceMean", 13, [F], 1, {"axes": {"axes": [0]}}),
    ("", "ReduceMean", 18, [F], 1, {"axes": {"axes": [0]}, "none": {}}),
    ("", "Relu", 14, [F], 1, {"undeclared": {"alpha": 0.5}, "internal": {"__tensorlint": 1}}),
    ("", "LayerNormalization", 17, [F, F], 1, {"undeclared": {"tensorlint": 1}}),
    ("", "Cast", 19, [F], 1, {"none": {}, "to": {"to": onnx.TensorProto.FLOAT16}}),
    ("ai.onnx.ml", "LabelEncoder", 2, [I64], 1, {
        "none": {}, "keys_int64s": {"keys_int64s": [1, 2], "values_int64s": [3, 4]}, "keys_only": {"keys_int64s": [1, 2]},
        "keys_int64s_keys_floats": {"keys_int64s": [1], "keys_floats": [1.0], "values_int64s": [2]}}),
    ("ai.onnx.ml", "LabelEncoder", 4, [I64], 1, {
        "none": {}, "keys_int64s": {"keys_int64s": [1, 2], "values_int64s": [3, 4]}, "keys_only": {"keys_int64s": [1, 2]},
        "keys_int64s_keys_strings": {"keys_int64s": [1], "keys_strings": ["a"], "values_int64s": [2]},
        "two_values": {"keys_int64s": [1], "values_int64s": [2], "values_floats": [2.0]}}),
    ("ai.onnx.ml", "CategoryMapper", 1, [I64], 1, {
        "none": {}, "cats_strings": {"cats_strings": ["a", "b"]},
        "both": {"cats_int64s": [1, 2], "cats_strings": ["a", "b"]}}),
    ("ai.onnx.ml", "OneHotEncoder", 1, [I64], 1, {
        "none": {}, "cats_int64s": {"cats_int64s": [1, 2, 3]},
        "both": {"cats_int64s": [1, 2], "cats_strings": ["a", "b"]}}),
    ("ai.onnx.ml", "Scaler", 1, [F], 1, {"none": {}, "scale": {"scale": [2.0]}, "scale_offset": {"scale": [2.0], "offset": [1.0]}}),
    ("ai.onnx.ml", "Imputer", 1, [F], 1, {
        "none": {}, "floats": {"imputed_value_floats": [0.0], "replaced_value_float": 1.0},
        "both": {"imputed_value_floats": [0.0], "imputed_value_int64s": [0]}}),
    ("ai.onnx.ml", "LinearRegressor", 1, [F], 1, {"none": {}, "coefficients": {"coefficients": [1.0, 2.0]}}),
    ("ai.onnx.ml", "FeatureVectorizer", 1, [F], 1, {"none": {}, "inputdimensions": {"inputdimensions": [2]}}),
    ("ai.onnx.ml", "TreeEnsembleClassifier", 3, [F], 2, {"base_values_twice": {
        "classlabels_int64s": [0, 1], "base_values": [0.0], "base_values_as_tensor": helper.make_tensor("b", F, [1], [0.0])}}),
    ("ai.onnx.ml", "TreeEnsembleRegressor", 3, [F], 1, {"base_values_twice": {
        "n_targets": 1, "base_values": [0.0], "base_values_as_tensor": helper.make_tensor("b", F, [1], [0.0])}}),
]


def attribute_model(domain, op, opset, inputs, outputs, attributes):
    names, values, initializers = [], [], []
    for index, spec in enumerate(inputs):
        name = "x%d" % index
        if spec is None:
            names.append("")
        elif isinstance(spec, tuple):
            element, data = spec
            names.append(name)
            initializers.append(helper.make_tensor(name, element, [len(data)], data))
        else:
            names.append(name)
            values.append(helper.make_tensor_value_info(name, spec, None))
    node = helper.make_node(op, names, ["y%d" % index for index in range(outputs)], name="node_0", domain=domain, **attributes)
    graph = helper.make_graph([node], "main", values, [helper.make_empty_tensor_value_info("y%d" % index) for index in range(outputs)],
                              initializer=initializers)
    opsets = [helper.make_opsetid(domain, opset)] + ([helper.make_opsetid("", 21)] if domain else [])
    return helper.make_model(graph, opset_imports=opsets, ir_version=IR_VERSION, producer_name="tensorlint-families")


def main():
    if onnx.__version__ != ONNX_RELEASE:
        sys.exit("make_onnxruntime_family_models.py: needs onnx %s (the labels are of its models), not %s" % (ONNX_RELEASE, onnx.__version__))
    folder = sys.argv[1]
    os.makedirs(folder, exist_ok=True)
    schemas = onnx.defs.get_all_schemas_with_history()
    newest = {}
    for schema in schemas:
        newest[schema.domain] = max(newest.get(schema.domain, 0), schema.since_version)
    in_force = {}
    for schema in schemas:
        key = (schema.domain, schema.name)
        if schema.since_version > in_force.get(key, (0,))[0]:
            in_force[key] = (schema.since_version, schema)
    written = 0
    cases = []

    def write(name, model, note, dtype):
        nonlocal written
        with open(os.path.join(folder, name), "wb") as handle:
            handle.write(model.SerializeToString(deterministic=True))
        cases.append({"id": "onnx/families/" + name[:-len(".onnx")], "file": "models/" + name, "target": "onnxruntime", "model_dtype": dtype,
                      "note": note})
        written += 1

    for schema in sorted(schemas, key=lambda s: (s.domain, s.name, s.since_version)):
        domain = schema.domain or "ai.onnx"
        if schema.deprecated:
            continue
        family_opsets = [("kernel", schema.since_version)]
        if in_force[(schema.domain, schema.name)][1] is schema and newest[schema.domain] != schema.since_version:
            family_opsets.append(("newest", newest[schema.domain]))
        for family, opset in family_opsets:
            for element, constraints, chosen in bindings(schema):
                model = build(schema, opset, constraints, chosen)
                if model is None:
                    continue
                name = "%s__%s__%s_%d__opset%d__%s.onnx" % (family, domain, schema.name, schema.since_version, opset, element)
                write(name, model, "%s-%d of %s at opset %d, bound to %s" % (schema.name, schema.since_version, domain, opset, element),
                      element)
    graph = helper.make_graph([helper.make_node("Gelu", ["x0"], ["y0"], name="node_0", domain="com.example.custom")], "main",
                              [helper.make_tensor_value_info("x0", onnx.TensorProto.FLOAT, None)], [helper.make_empty_tensor_value_info("y0")])
    write("domain__com.example.custom__Gelu.onnx",
          helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21), helper.make_opsetid("com.example.custom", 1)],
                            ir_version=IR_VERSION, producer_name="tensorlint-families"),
          "Gelu in a custom domain no op library registers", "float32")
    for domain, op, opset, inputs, outputs, variants in ATTRIBUTE_CASES:
        for variant, attributes in variants.items():
            write("attributes__%s__%s_%d__%s.onnx" % (domain or "ai.onnx", op, opset, variant),
                  attribute_model(domain, op, opset, inputs, outputs, attributes),
                  "%s-%d with %s" % (op, opset, ", ".join(sorted(attributes)) or "no attributes"), "float32")
    with open(os.path.join(os.path.dirname(os.path.normpath(folder)), "cases.jsonl"), "w", encoding="utf-8") as handle:
        for case in cases:
            handle.write(json.dumps(case) + "\n")
    print("wrote %d models to %s (onnx %s)" % (written, folder, onnx.__version__))


if __name__ == "__main__":
    main()
