//! The host files netc writes, read by the programs that read them on a node:
//!
//! - `sysctl.conf`: `sysctl -p` applies it inside a namespace this test creates (every key
//!   netc writes is per network namespace, so the machine's own settings are untouched);
//! - `proxy.env`: a POSIX shell sources it and sees exactly the Plan's values, even from a
//!   hostile proxy URL;
//! - `flanneld.service` (host flanneld, `distribution: manual`): `systemd-analyze verify`
//!   accepts it (in a private mount namespace where a stand-in flanneld binary exists at the
//!   intent's path); kubeadm builds have none;
//! - `routes.txt` and `modules.conf`: one machine-readable entry per line;
//! - `manual/<node>/*.env`: a shell splits `$ARGS` into one argument per flag, as systemd does
//!   with an unbraced `$ARGS` from an `EnvironmentFile`, and the flags are the Plan's.

#[path = "consumers/support.rs"]
mod support;

use support::{Netns, build_unchecked, run, run_ok, skip_netns, text, write_all};

const PROXY: &str = r#"
apiVersion: netc/v1alpha1
kind: NetworkIntent
metadata: {name: proxied}
cluster:
  distribution: kubeadm
  kubernetesVersion: v1.31.2
  podCIDR: [10.244.0.0/16, "fd00:244::/56"]
  serviceCIDR: [10.96.0.0/12, "fd00:96::/112"]
  kubeProxy: {mode: ipvs, ipvsScheduler: wrr}
cni: {plugin: flannel, encapsulation: vxlan}
nodes:
  - {name: n1, role: control-plane, address: 10.0.0.2/24}
proxy:
  http: "http://user:p'ss$(touch /tmp/netc-pwned)@proxy.corp:3128"
  https: "http://proxy.corp:3128"
  noProxy: [corp.internal, "`id`"]
"#;

/// Host flanneld with the lesson's default paths (the example sets its own).
const MANUAL_FLANNEL: &str = r#"
apiVersion: netc/v1alpha1
kind: NetworkIntent
metadata: {name: manual-flannel}
cluster:
  distribution: manual
  kubernetesVersion: v1.32.3
  podCIDR: 10.200.0.0/16
  serviceCIDR: 10.32.0.0/24
cni: {plugin: flannel, encapsulation: host-gw, calico: {natOutgoing: false}}
nodes:
  - {name: server, role: control-plane, address: 10.0.0.2/24}
  - {name: node-0, role: worker, address: 10.0.0.3/24}
"#;

#[test]
fn sysctl_conf_applies_inside_a_namespace() {
    if skip_netns() {
        eprintln!("NETC_SKIP_NETNS=1: skipping sysctl -p");
        return;
    }
    let mut builds = vec![build_unchecked("proxied.yaml", PROXY)];
    builds.extend(support::all_examples().into_iter().map(|(_, p, a)| (p, a)));
    let ns = Netns::new("sysctl");
    let mut checked = 0;
    for (plan, art) in &builds {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        write_all(dir.path(), art);
        for node in &plan.nodes {
            let file = dir.path().join(format!("host/{}/sysctl.conf", node.name));
            let out = ns.ok(&["sysctl", "-p", &file.to_string_lossy()]);
            for s in &node.sysctls {
                let line = format!("{} = {}", s.key, s.value);
                assert!(out.contains(&line), "sysctl -p did not set {line}:\n{out}");
                let now = ns.ok(&["sysctl", "-n", &s.key]);
                assert_eq!(now.trim(), s.value, "{} in the namespace", s.key);
            }
            checked += 1;
        }
    }
    assert!(checked > 3);
}

#[test]
fn proxy_env_reads_back_exactly_in_a_shell() {
    let (plan, art) = build_unchecked("proxied.yaml", PROXY);
    let proxy = plan
        .proxy
        .as_ref()
        .unwrap_or_else(|| panic!("no proxy in the plan"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write_all(dir.path(), &art);
    let file = dir.path().join("host/n1/proxy.env");
    let script = r#"set -a; . "$1"; printf '%s\n' "$HTTP_PROXY" "$http_proxy" "$HTTPS_PROXY" "$NO_PROXY" "$no_proxy""#;
    let out = run_ok("sh", &["-c", script, "sh", &file.to_string_lossy()]);
    let lines: Vec<&str> = out.lines().collect();
    // `'` cannot stay literal in a file both systemd and sh read: it is percent-encoded.
    let http = proxy.http.clone().unwrap_or_default().replace('\'', "%27");
    assert_eq!(lines[0], http);
    assert_eq!(lines[1], http);
    assert_eq!(lines[2], "http://proxy.corp:3128");
    let no_proxy = proxy.no_proxy.join(",");
    assert_eq!(lines[3], no_proxy);
    assert_eq!(lines[4], no_proxy);
    for want in [
        "10.244.0.0/16",
        "10.96.0.0/12",
        ".svc",
        ".cluster.local",
        "`id`",
    ] {
        assert!(
            lines[3].split(',').any(|e| e == want),
            "NO_PROXY lacks {want}: {}",
            lines[3]
        );
    }
    assert!(
        !std::path::Path::new("/tmp/netc-pwned").exists(),
        "sourcing ran a command"
    );
    // systemd's EnvironmentFile syntax: NAME='value', nothing that needs shell evaluation.
    for line in text(&art["host/n1/proxy.env"])
        .lines()
        .filter(|l| !l.starts_with('#'))
    {
        let (name, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("not NAME=value: {line}"));
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{line}"
        );
        assert!(
            value.starts_with('\'') && value.ends_with('\'') && value.matches('\'').count() == 2,
            "{line}"
        );
    }
}

#[test]
fn flanneld_unit_passes_systemd_analyze_verify() {
    if skip_netns() {
        eprintln!("NETC_SKIP_NETNS=1: skipping systemd-analyze (needs a mount namespace)");
        return;
    }
    let mut builds = vec![support::build("manual-flannel.yaml", MANUAL_FLANNEL)];
    builds.extend(support::all_examples().into_iter().map(|(_, p, a)| (p, a)));
    let mut verified = 0;
    for (plan, art) in builds {
        let host = plan.cni.flannel().and_then(|f| f.host.as_ref());
        let Some(host) = host else {
            // Flannel as the distribution's DaemonSet, or no flannel: no unit on the host.
            assert!(
                !art.contains_key("flannel/flanneld.service"),
                "{}: flanneld.service without host flanneld",
                plan.name
            );
            continue;
        };
        let label = &plan.name;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        write_all(dir.path(), &art);
        let unit = dir.path().join("flannel/flanneld.service");
        let unit_text = text(&art["flannel/flanneld.service"]);
        let ip_masq = plan.cni.flannel().is_some_and(|f| f.ip_masq);
        for (flag, want) in [
            ("\"--kube-subnet-mgr\"".to_owned(), true),
            (format!("\"--kubeconfig-file={}\"", host.kubeconfig), true),
            (format!("\"--net-config-path={}\"", host.net_conf), true),
            ("\"--ip-masq\"".to_owned(), ip_masq),
        ] {
            assert_eq!(
                unit_text.contains(&flag),
                want,
                "{label}: {flag} in {unit_text}"
            );
        }
        assert!(
            unit_text.contains(&format!("ExecStart=\"{}\" ", host.binary)),
            "{label}: {unit_text}"
        );
        // systemd checks that ExecStart's binary exists: a stand-in, on a tmpfs mounted (in a
        // private mount namespace) over the deepest directory of its path that exists.
        let script = r#"set -e
bin="$2"; top=$(dirname "$bin")
while [ ! -d "$top" ]; do top=$(dirname "$top"); done
mount -t tmpfs netc-test "$top"
mkdir -p "$(dirname "$bin")"
printf '#!/bin/sh\n' > "$bin"
chmod +x "$bin"
systemd-analyze verify "$1"
"#;
        let out = run(
            "unshare",
            &[
                "-m",
                "--propagation",
                "private",
                "sh",
                "-c",
                script,
                "sh",
                &unit.to_string_lossy(),
                &host.binary,
            ],
            None,
        );
        assert!(
            out.status.success() && !text(&out.stderr).contains("flanneld.service:"),
            "{label}: systemd-analyze verify rejects flanneld.service:\n{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        verified += 1;
    }
    assert!(verified >= 2, "only {verified} flanneld.service verified");
}

#[test]
fn routes_and_modules_are_one_entry_per_line() {
    let mut builds = vec![build_unchecked("proxied.yaml", PROXY)];
    builds.extend(support::all_examples().into_iter().map(|(_, p, a)| (p, a)));
    for (plan, art) in &builds {
        for node in &plan.nodes {
            let modules = text(&art[&format!("host/{}/modules.conf", node.name)]);
            let names: Vec<&str> = modules.lines().filter(|l| !l.starts_with('#')).collect();
            let want: Vec<&str> = node.modules.iter().map(|m| m.name.as_str()).collect();
            assert_eq!(names, want, "{}: modules.conf", node.name);
            let routes = art.get(&format!("host/{}/routes.txt", node.name));
            assert_eq!(
                routes.is_some(),
                !node.routes.is_empty(),
                "{}: routes.txt",
                node.name
            );
            if let Some(routes) = routes {
                let lines: Vec<String> = text(routes)
                    .lines()
                    .filter(|l| !l.starts_with('#'))
                    .map(str::to_owned)
                    .collect();
                let want: Vec<String> = node
                    .routes
                    .iter()
                    .map(|r| format!("{} via {}", r.destination, r.via))
                    .collect();
                assert_eq!(lines, want, "{}: routes.txt", node.name);
            }
        }
    }
    // kube-proxy IPVS with the wrr scheduler needs that scheduler's module.
    let (plan, art) = build_unchecked("proxied.yaml", PROXY);
    assert!(plan.nodes[0].modules.iter().any(|m| m.name == "ip_vs_wrr"));
    assert!(
        text(&art["host/n1/modules.conf"])
            .lines()
            .any(|l| l == "ip_vs_wrr")
    );
}

/// A dual-stack hand-run control plane: both mask flags, comma-separated CIDR pairs.
const MANUAL_DUAL: &str = r#"
apiVersion: netc/v1alpha1
kind: NetworkIntent
metadata: {name: manual-dual}
cluster:
  distribution: manual
  kubernetesVersion: v1.32.3
  podCIDR: [10.200.0.0/16, "fd00:200::/56"]
  serviceCIDR: [10.32.0.0/24, "fd00:32::/112"]
  nodeCIDRMaskSize: 25
cni: {plugin: bridge, encapsulation: none}
nodes:
  - {name: server, role: control-plane, address: 10.0.0.2/24}
  - {name: node-0, role: worker, address: 10.0.0.3/24}
"#;

#[test]
fn manual_flags_split_into_one_argument_per_flag() {
    let mut builds = vec![support::build("manual-dual.yaml", MANUAL_DUAL)];
    builds.extend(
        support::all_examples()
            .into_iter()
            .map(|(_, p, a)| (p, a))
            .filter(|(p, _)| p.distribution == netc::intent::Distribution::Manual),
    );
    assert!(builds.len() >= 3, "the manual examples are missing");
    let mut checked = 0;
    for (plan, art) in &builds {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        write_all(dir.path(), art);
        let join = |nets: &[ipnet::IpNet]| {
            nets.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        };
        let dual = plan.dual_stack();
        for node in plan.nodes.iter().filter(|n| n.is_control_plane()) {
            let ip = node.ip().map(|ip| ip.to_string()).unwrap_or_default();
            let mut masks = if dual {
                vec![
                    format!("--node-cidr-mask-size-ipv4={}", plan.node_mask_v4),
                    format!("--node-cidr-mask-size-ipv6={}", plan.node_mask_v6),
                ]
            } else {
                vec![format!("--node-cidr-mask-size={}", plan.node_mask_v4)]
            };
            let mut cm = vec![
                "--allocate-node-cidrs=true".to_owned(),
                format!("--cluster-cidr={}", join(&plan.pod_cidrs)),
            ];
            cm.append(&mut masks);
            cm.push(format!(
                "--service-cluster-ip-range={}",
                join(&plan.service_cidrs)
            ));
            let want = [
                (
                    "kube-apiserver",
                    vec![
                        format!("--advertise-address={ip}"),
                        format!("--service-cluster-ip-range={}", join(&plan.service_cidrs)),
                    ],
                ),
                ("kube-controller-manager", cm),
            ];
            for (component, flags) in want {
                let file = dir
                    .path()
                    .join(format!("manual/{}/{component}.env", node.name));
                // Unquoted expansion: the shell's field splitting, like systemd's `$ARGS`.
                let out = run_ok(
                    "sh",
                    &[
                        "-c",
                        r#"set -a; . "$1"; printf '%s\n' $ARGS"#,
                        "sh",
                        &file.to_string_lossy(),
                    ],
                );
                let got: Vec<&str> = out.lines().collect();
                assert_eq!(got, flags, "{}: {component} on {}", plan.name, node.name);
                checked += 1;
            }
        }
    }
    assert!(checked >= 6, "only {checked} flags files");
}

/// Reads `Environment=` lines the way systemd does (systemd.exec(5): a quoted word with C
/// escapes, `%%` for a literal `%`, `$` not special): `NAME → value`.
fn systemd_environment(unit: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in unit.lines() {
        let Some(word) = line.strip_prefix("Environment=") else {
            continue;
        };
        let inner = word
            .strip_prefix('"')
            .and_then(|w| w.strip_suffix('"'))
            .unwrap_or_else(|| panic!("unquoted assignment: {line}"));
        let mut value = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => value.push(chars.next().expect("escape")),
                '%' => {
                    assert_eq!(chars.next(), Some('%'), "lone specifier in {line}");
                    value.push('%');
                }
                '"' => panic!("unescaped quote in {line}"),
                c => value.push(c),
            }
        }
        let (name, v) = value.split_once('=').expect("NAME=value");
        out.push((name.to_owned(), v.to_owned()));
    }
    out
}

#[test]
fn containerd_proxy_drop_in_passes_systemd_analyze_and_carries_the_plan_values() {
    let hostile = PROXY.replace(
        "http://proxy.corp:3128",
        "http://user:p%40ss$word\\\"x@proxy.corp:3128",
    );
    let (plan, art) = build_unchecked("proxied.yaml", &hostile);
    let drop_in = text(&art["host/n1/containerd-proxy.conf"]);
    let proxy = plan.proxy.as_ref().expect("proxy");
    let env = systemd_environment(&drop_in);
    let get = |n: &str| env.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    // Exactly the Plan's values where they hold nothing proxy.env must encode...
    assert_eq!(get("HTTPS_PROXY"), proxy.https.clone(), "{drop_in}");
    assert!(
        get("HTTPS_PROXY").is_some_and(|v| v.contains("p%40ss$word\"x")),
        "{drop_in}"
    );
    assert_eq!(get("NO_PROXY"), Some(proxy.no_proxy.join(",")));
    // ...and always what proxy.env (NAME='value', see above) gives the shell and systemd.
    let env_file = text(&art["host/n1/proxy.env"]);
    let mut upper = 0;
    for line in env_file.lines().filter(|l| !l.starts_with('#')) {
        let (name, value) = line.split_once('=').expect("NAME=value");
        if name.bytes().any(|b| b.is_ascii_lowercase()) {
            continue;
        }
        upper += 1;
        let value = value.trim_matches('\'');
        assert_eq!(get(name).as_deref(), Some(value), "{name}: {drop_in}");
    }
    assert_eq!(upper, 3, "{env_file}");
    assert_eq!(env.len(), 3, "{drop_in}");
    // systemd loads it as a drop-in of containerd.service under a private root and finds
    // nothing to complain about in it; a malformed drop-in beside it is reported.
    let root = tempfile::tempdir().expect("tempdir");
    let unit_dir = root.path().join("etc/systemd/system");
    std::fs::create_dir_all(unit_dir.join("containerd.service.d")).expect("mkdir");
    std::fs::write(
        unit_dir.join("containerd.service"),
        "[Unit]\nDescription=stand-in\n[Service]\nExecStart=/usr/bin/containerd\n",
    )
    .expect("write");
    std::fs::write(
        unit_dir.join("containerd.service.d/http-proxy.conf"),
        drop_in.as_bytes(),
    )
    .expect("write");
    std::fs::write(
        unit_dir.join("containerd.service.d/zz-broken.conf"),
        "[Service]\nEnvironment=bad\"x\n",
    )
    .expect("write");
    let root_arg = format!("--root={}", root.path().display());
    let out = run(
        "systemd-analyze",
        &[&root_arg, "verify", "containerd.service"],
        None,
    );
    let report = text(&out.stderr);
    assert!(
        report.contains("zz-broken.conf"),
        "systemd-analyze did not read the drop-ins: {report}"
    );
    assert!(!report.contains("http-proxy.conf"), "{report}");
    // `netc apply` installs exactly this file, at the drop-in path.
    let installed = netc::emit::node_artifacts(&plan, "proxied.yaml", "n1")
        .expect("emit")
        .expect("node n1");
    let ours = installed
        .iter()
        .find(|a| a.path == "host/n1/containerd-proxy.conf")
        .expect("the drop-in is installed");
    assert_eq!(
        ours.target,
        netc::emit::Target::File(
            "/etc/systemd/system/containerd.service.d/http-proxy.conf".to_owned()
        )
    );
    assert_eq!(ours.contents, drop_in.as_bytes());
    // The other distributions: `runtime_proxy_goes_where_each_distribution_reads_it`.
}

/// PROXY on another distribution, with a worker beside the control-plane node.
fn proxied_on(distribution: &str, version: &str) -> String {
    PROXY
        .replace(
            "distribution: kubeadm",
            &format!("distribution: {distribution}"),
        )
        .replace("kubernetesVersion: v1.31.2", &format!("kubernetesVersion: {version}"))
        .replace(
            "  - {name: n1, role: control-plane, address: 10.0.0.2/24}\n",
            "  - {name: n1, role: control-plane, address: 10.0.0.2/24}\n  - {name: n2, role: worker, address: 10.0.0.3/24}\n",
        )
}

/// The container runtime's proxy reaches the place each distribution documents, per role:
/// RKE2 and k3s read `/etc/default/<service>` (`EnvironmentFile=-/etc/default/%N` in their units)
/// and pass it to their embedded containerd; Canonical's snap containerd takes a drop-in; kubeadm
/// and manual nodes run `containerd.service`. The env file carries exactly proxy.env's values.
#[test]
fn runtime_proxy_goes_where_each_distribution_reads_it() {
    let cases = [
        (
            "rke2",
            "v1.31.2+rke2r1",
            [
                ("host/n1/rke2-server.env", "/etc/default/rke2-server"),
                ("host/n2/rke2-agent.env", "/etc/default/rke2-agent"),
            ],
        ),
        (
            "k3s",
            "v1.31.2+k3s1",
            [
                ("host/n1/k3s.env", "/etc/default/k3s"),
                ("host/n2/k3s-agent.env", "/etc/default/k3s-agent"),
            ],
        ),
        (
            "canonical",
            "v1.31.2",
            [
                (
                    "host/n1/containerd-proxy.conf",
                    "/etc/systemd/system/snap.k8s.containerd.service.d/http-proxy.conf",
                ),
                (
                    "host/n2/containerd-proxy.conf",
                    "/etc/systemd/system/snap.k8s.containerd.service.d/http-proxy.conf",
                ),
            ],
        ),
        (
            "manual",
            "v1.31.2",
            [
                (
                    "host/n1/containerd-proxy.conf",
                    "/etc/systemd/system/containerd.service.d/http-proxy.conf",
                ),
                (
                    "host/n2/containerd-proxy.conf",
                    "/etc/systemd/system/containerd.service.d/http-proxy.conf",
                ),
            ],
        ),
    ];
    for (distribution, version, files) in cases {
        let (plan, art) = build_unchecked("proxied.yaml", &proxied_on(distribution, version));
        for (node, (artifact, host_path)) in ["n1", "n2"].into_iter().zip(files) {
            let installed = netc::emit::node_artifacts(&plan, "proxied.yaml", node)
                .expect("emit")
                .expect("node");
            let ours: Vec<_> = installed
                .iter()
                .filter(|a| a.path.starts_with("host/"))
                .filter(|a| {
                    a.path.ends_with(".env") && !a.path.ends_with("/proxy.env")
                        || a.path.ends_with("containerd-proxy.conf")
                })
                .collect();
            assert_eq!(ours.len(), 1, "{distribution} {node}: {ours:?}");
            assert_eq!(ours[0].path, artifact, "{distribution} {node}");
            assert_eq!(
                ours[0].target,
                netc::emit::Target::File(host_path.to_owned()),
                "{distribution} {node}"
            );
            let body = text(&art[artifact]);
            let proxy_env = text(&art[&format!("host/{node}/proxy.env")]);
            let assignments = |t: &str| -> Vec<String> {
                t.lines()
                    .filter(|l| !l.starts_with('#') && !l.is_empty())
                    .map(str::to_owned)
                    .collect()
            };
            if artifact.ends_with(".env") {
                // An EnvironmentFile: the very NAME='value' lines of proxy.env.
                assert_eq!(assignments(&body), assignments(&proxy_env), "{body}");
            } else {
                // A drop-in: Environment= lines with the upper-case values of proxy.env.
                let env = systemd_environment(&body);
                assert_eq!(env.len(), 3, "{body}");
                let proxy = plan.proxy.as_ref().expect("proxy");
                assert!(env.contains(&("NO_PROXY".to_owned(), proxy.no_proxy.join(","))));
            }
        }
    }
}
