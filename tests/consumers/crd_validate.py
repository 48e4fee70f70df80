#!/usr/bin/env python3
"""Validates YAML documents against a CustomResourceDefinition's OpenAPI v3 schema.

usage: crd_validate.py CRD.yaml FILE.yaml...

Each document whose apiVersion/kind is the CRD's group/version and kind is checked against
that version's `schema.openAPIV3Schema` with jsonschema. Stricter than the API server, which
silently prunes unknown fields: objects without `x-kubernetes-preserve-unknown-fields` get
`additionalProperties: false`, so a misspelt field is an error instead of lost. Exit 0 when
every document is valid (and at least one was checked), 1 otherwise.
"""
import sys

import jsonschema
import yaml


def strict(schema):
    """Copies `schema`, closing every object that lists its properties."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strict(v) for k, v in schema.items()}
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        crd = yaml.safe_load(f)
    group = crd["spec"]["group"]
    kind = crd["spec"]["names"]["kind"]
    schemas = {
        f"{group}/{v['name']}": strict(v["schema"]["openAPIV3Schema"])
        for v in crd["spec"]["versions"]
    }
    checked, failed = 0, 0
    for path in argv[2:]:
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
        for i, doc in enumerate(docs):
            if doc.get("kind") != kind or doc.get("apiVersion") not in schemas:
                continue
            checked += 1
            validator = jsonschema.Draft7Validator(schemas[doc["apiVersion"]])
            errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
            for e in errors:
                where = "/".join(str(p) for p in e.path) or "(root)"
                print(f"{path} document {i}: {where}: {e.message}")
            failed += bool(errors)
            if not errors:
                print(f"{path} document {i}: valid {doc['apiVersion']} {kind}")
    if checked == 0:
        print(f"no {kind} document in {argv[2:]}")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
