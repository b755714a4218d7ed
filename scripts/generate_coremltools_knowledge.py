#!/usr/bin/env python3
"""Generate tensorlint's coremltools knowledge tables from an installed coremltools.

    python3 -m venv /tmp/ct && /tmp/ct/bin/pip install coremltools==9.0
    /tmp/ct/bin/python scripts/generate_coremltools_knowledge.py

Writes rules/knowledge/coremltools-<version>/:
  torch-frontend.json   every torch op kind the torch frontend registers (read from the source with `ast`,
                        since importing the frontend needs torch), and which converters promote dtypes
  mil-type-domains.json for each MIL opset (iOS15..iOS18), each op's inputs that share a type domain
  deployment-targets.json every `coremltools.target` an ML program can be converted for, with the Core ML
                        specification version (MIL opset) it selects

Running it again on the same coremltools version must give byte-identical files (CI checks this).
"""
import argparse
import ast
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def decorator_info(decorator):
    """(is_register_torch_op, aliases) for one decorator node."""
    call = decorator if isinstance(decorator, ast.Call) else None
    func = call.func if call else decorator
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name != "register_torch_op":
        return False, []
    aliases = []
    for keyword in call.keywords if call else []:
        if keyword.arg == "torch_alias" and isinstance(keyword.value, (ast.List, ast.Tuple)):
            aliases = [ast.literal_eval(element) for element in keyword.value.elts]
    return True, aliases


def calls(function, name):
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            callee = node.func
            callee_name = callee.attr if isinstance(callee, ast.Attribute) else getattr(callee, "id", None)
            if callee_name == name:
                return True
    return False


def torch_frontend(ct_root):
    frontend = os.path.join(ct_root, "converters", "mil", "frontend", "torch")
    registered, promoting, converters = {}, set(), {}
    for file_name in sorted(os.listdir(frontend)):
        if not file_name.endswith(".py"):
            continue
        path = os.path.join(frontend, file_name)
        with open(path, encoding="utf-8") as handle:
            tree = ast.parse(handle.read(), filename=path)
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                is_registration, aliases = decorator_info(decorator)
                if not is_registration:
                    continue
                # TorchOpsRegistry.register: the function's name (lower-cased) plus each alias.
                names = [node.name.lower()] + [alias.lower() for alias in aliases]
                converters[node.name] = sorted(set(names))
                for name in names:
                    registered[name] = node.name
                if calls(node, "promote_input_dtypes"):
                    promoting.add(node.name)
    return {
        "registered": sorted(registered),
        "converter_of": {name: registered[name] for name in sorted(registered)},
        "promoting_converters": sorted(promoting),
    }


def mil_type_domains():
    import coremltools  # noqa: F401  (populates the op registry)
    from coremltools.converters.mil.mil.ops.registry import SSAOpRegistry
    from coremltools.converters.mil.mil.input_type import TensorInputType

    opsets = {}
    for opset in SSAOpRegistry.SUPPORTED_OPSET_VERSIONS:
        if opset.value < 6:  # iOS15 is the oldest mlprogram target
            continue
        table = {}
        for op_type in sorted(SSAOpRegistry.core_ops):
            cls = SSAOpRegistry.core_ops[op_type].get(opset)
            if cls is None:
                continue
            groups = {}
            for input_name, input_type in cls.input_spec.input_types.items():
                if isinstance(input_type, TensorInputType) and input_type.type_domain_id is not None:
                    groups.setdefault(input_type.type_domain_id, []).append(input_name)
            shared = {domain: names for domain, names in groups.items() if len(names) > 1}
            if groups:
                table[op_type] = {"domains": groups, "shared": sorted(shared)}
        opsets[opset.name] = table
    return opsets


def deployment_targets(coremltools):
    """`ct.target` members by name → specification version; ML programs start at iOS15 (specification 6)."""
    return {name: member.value for name, member in coremltools.target.__members__.items() if member.value >= 6}


def write(path, payload):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=1, sort_keys=True)
        handle.write("\n")
    print(f"wrote {os.path.relpath(path, REPO)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(REPO, "rules", "knowledge"))
    args = parser.parse_args()
    try:
        import coremltools
    except ImportError:
        sys.exit("generate_coremltools_knowledge: install coremltools first (pip install coremltools==9.0)")
    version = coremltools.__version__
    folder = os.path.join(args.out, f"coremltools-{version}")
    header = {"tool": "coremltools", "version": version,
              "generated_by": "scripts/generate_coremltools_knowledge.py"}
    frontend = torch_frontend(os.path.dirname(coremltools.__file__))
    write(os.path.join(folder, "torch-frontend.json"), dict(header, **frontend))
    write(os.path.join(folder, "mil-type-domains.json"), dict(header, opsets=mil_type_domains()))
    write(os.path.join(folder, "deployment-targets.json"), dict(header, targets=deployment_targets(coremltools)))


if __name__ == "__main__":
    main()
