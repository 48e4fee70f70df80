#!/usr/bin/env python3
"""Writes the seed inputs of each fuzz target (fuzz/seeds/<target>/): the inputs of issue 11
that crashed or misbehaved, kept small enough for -max_len. Re-run after editing; the output is
committed. The examples/ intents are added to each corpus by scripts/fuzz-smoke.sh."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = open(os.path.join(HERE, "..", "..", "tests", "invalid", "base.yaml")).read()

kdl = {
    # Openings that made the old depth pre-scan stop counting while the parser recursed.
    "open-triple-quote": '"""' + "a{" * 2000,
    "open-raw": '#"' + "a{" * 2000,
    "open-raw-triple": '#"""' + "a{" * 2000,
    "v1-raw": 'r#"' + "a{" * 2000,
    "bad-unicode-escape": 'x "a\\u{' + "a{" * 2000,
    "unbalanced-raw": '##"abc"#' + "a{" * 2000,
    "unclosed-multiline": 'x """\nabc\n""' + "a{" * 2000,
    # Other recursions of the kdl parser: top-level error recovery and block comments.
    "closing-braces": "}" * 5000,
    "glued-nodes": "a{}" * 3000,
    "stray-parens": ")" * 5000,
    "comment-stars": "/*" + "*" * 5000 + "*/",
    "comment-slashes": "/*" + "/ " * 3000 + "*/",
    "many-comments": "// a comment { with braces }\n/* and ** a block */\n" * 150,
    "deep-nesting": "a{" * 20 + "}" * 20,
    "escapes": 'kind "\\u{1b}]0;title\\u{7}\\u{1b}[2J"\nmetadata name="x\\ny"\n',
}

def edit(old, new):
    assert old in BASE, old
    return BASE.replace(old, new, 1)

yaml = {
    "one-line-error": "a: [" + "x, " * 3000,
    "terminal-escapes": edit("name: cp-1", 'name: "cp-\\e]0;owned\\a\\e[2J"'),
    "ipvs-space": edit("kubeProxy: {mode: iptables}", 'kubeProxy: {mode: ipvs, ipvsScheduler: "r r"}'),
    "ipvs-subshell": edit("kubeProxy: {mode: iptables}", 'kubeProxy: {mode: ipvs, ipvsScheduler: "$(reboot)"}'),
    "iface-quote": edit("interface: eth0", "interface: 'e\"1'").replace("{name: eth0", "{name: 'e\"1'"),
    "long-node-name": edit("name: worker-2", "name: " + "a" * 61 + ("." + "a" * 63) * 3),
    "proxy-nul": BASE + 'proxy: {http: "http://p:3128\\0x", https: "not a url", noProxy: ["a b", ""]}\n',
    "endpoint": edit("controlPlaneEndpoint: 10.0.1.100:6443", "controlPlaneEndpoint: 'h:99999\\nx'"),
    "rule-name": edit("managementAccess: [tcp/22]", 'managementAccess: [tcp/22]\n  rules: [{name: "a b;$(x)", ports: [tcp/9100]}]'),
    "missing-version": edit("  kubernetesVersion: v1.31.2\n", ""),
}

def write(target, seeds):
    d = os.path.join(HERE, target)
    os.makedirs(d, exist_ok=True)
    for name, text in seeds.items():
        with open(os.path.join(d, name), "w") as f:
            f.write(text)

write("kdl", kdl)
write("yaml", yaml)
write("pipeline", {**{"kdl-" + k: v for k, v in kdl.items()}, **{"yaml-" + k: v for k, v in yaml.items()}})
