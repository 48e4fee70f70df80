//! Where flanneld's files go, applied in namespaces of the `lab`: host flanneld is
//! `distribution: manual`'s only. A kubeadm + flannel node installs no flanneld unit and no
//! kube-flannel net-conf (the DaemonSet brings its own); a manual node installs exactly the
//! files `build` emits for it, at the paths the intent names (`cni.flannel.paths`) and the
//! lesson's paths of each component's configuration.
//!
//! Needs root (CI runs as root); fails loudly without it unless `NETC_SKIP_NETNS=1`.

mod lab;
use lab::{ok, text};

use std::path::Path;

use lab::Lab;

fn example(lab: &Lab, name: &str) -> std::path::PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name);
    let source = std::fs::read_to_string(&path).expect("example");
    lab.file(name, &source)
}

/// Every regular file under `dir`, relative to `root`.
fn files_under(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(root, &p, out);
        } else {
            let rel = p.strip_prefix(root).expect("under root");
            out.push(rel.display().to_string());
        }
    }
}

fn installed(lab: &Lab, short: &str) -> Vec<String> {
    let root = lab.path(short, "root");
    let mut out = Vec::new();
    files_under(&root, &root, &mut out);
    out.sort();
    out
}

#[test]
fn kubeadm_flannel_node_gets_no_host_flanneld() {
    let Some(lab) = Lab::new(&[("n1", "10.0.1.101/24")]) else {
        return;
    };
    let file = example(&lab, "kubeadm-flannel.yaml");
    let dry = ok(lab.apply("n1", &file, "worker-1", &["--dry-run"], &[]));
    // The plan writes the node's files (the flannel conflist among them) ...
    assert!(
        dry.contains("/etc/cni/net.d/10-flannel.conflist"),
        "no file in the plan:\n{dry}"
    );
    // ... but no second flanneld next to the kube-flannel DaemonSet.
    for host_flanneld in ["flanneld.service", "/etc/kube-flannel/"] {
        assert!(
            !dry.contains(host_flanneld),
            "kubeadm plan installs {host_flanneld}:\n{dry}"
        );
    }
    ok(lab.apply("n1", &file, "worker-1", &[], &[]));
    let files = installed(&lab, "n1");
    assert!(
        files
            .iter()
            .any(|f| f == "etc/cni/net.d/10-flannel.conflist"),
        "{files:?}"
    );
    assert!(
        files
            .iter()
            .all(|f| !f.contains("flanneld") && !f.starts_with("etc/kube-flannel")),
        "{files:?}"
    );
}

#[test]
fn manual_flannel_node_gets_what_build_emits_at_the_intents_paths() {
    let Some(lab) = Lab::new(&[("n0", "172.16.0.2/24"), ("n1", "172.16.0.3/24")]) else {
        return;
    };
    let file = example(&lab, "hard-way-manual-flannel.yaml");
    let out = lab.dir.join("out");
    let build = std::process::Command::new(lab::NETC)
        .arg("build")
        .arg(&file)
        .arg("-o")
        .arg(&out)
        .output()
        .expect("netc build");
    assert!(build.status.success(), "{}", text(&build));
    for (short, node) in [("n0", "server"), ("n1", "node-0")] {
        let dry = ok(lab.apply(short, &file, node, &["--dry-run"], &[]));
        assert!(
            dry.contains("/etc/systemd/system/flanneld.service"),
            "{node}: {dry}"
        );
        ok(lab.apply(short, &file, node, &[], &[]));
        // Host path -> emitted artifact; the example sets binary and kubeconfig paths.
        let mut expected = vec![
            (
                "etc/cni/net.d/10-flannel.conflist",
                "cni/NODE/10-flannel.conflist",
            ),
            ("etc/sysctl.d/90-netc.conf", "host/NODE/sysctl.conf"),
            ("etc/modules-load.d/netc.conf", "host/NODE/modules.conf"),
            (
                "etc/systemd/system/flanneld.service",
                "flannel/flanneld.service",
            ),
            ("etc/kube-flannel/net-conf.json", "flannel/net-conf.json"),
            ("var/lib/flannel/kubeconfig", "flannel/kubeconfig"),
            (
                "etc/kubernetes/kubelet.conf.d/20-netc-network.conf",
                "manual/NODE/kubelet-config.yaml",
            ),
            ("etc/netc/manual/kubelet.env", "manual/NODE/kubelet.env"),
            (
                "var/lib/kube-proxy/kube-proxy-config.yaml",
                "manual/NODE/kube-proxy-config.yaml",
            ),
            (
                "var/lib/kube-proxy/kubeconfig",
                "manual/NODE/kube-proxy.kubeconfig",
            ),
        ];
        if node == "server" {
            expected.push((
                "etc/netc/manual/kube-apiserver.env",
                "manual/NODE/kube-apiserver.env",
            ));
            expected.push((
                "etc/netc/manual/kube-controller-manager.env",
                "manual/NODE/kube-controller-manager.env",
            ));
        }
        let mut expected: Vec<(String, String)> = expected
            .iter()
            .map(|(h, a)| (h.to_string(), a.replace("NODE", node)))
            .collect();
        expected.sort();
        let want: Vec<&str> = expected.iter().map(|(h, _)| h.as_str()).collect();
        assert_eq!(
            installed(&lab, short),
            want,
            "files apply installed on {node}"
        );
        let root = lab.path(short, "root");
        for (host, artifact) in &expected {
            let got = std::fs::read(root.join(host)).expect("installed file");
            let emitted = std::fs::read(out.join(artifact)).expect("emitted file");
            assert!(got == emitted, "{host} on {node} differs from {artifact}");
        }
        // The unit starts the binary the intent names, with the paths it installed.
        let unit = std::fs::read_to_string(root.join("etc/systemd/system/flanneld.service"))
            .expect("unit");
        assert!(
            unit.contains("ExecStart=\"/usr/local/bin/flanneld\"")
                && unit.contains("\"--kubeconfig-file=/var/lib/flannel/kubeconfig\"")
                && unit.contains("\"--net-config-path=/etc/kube-flannel/net-conf.json\""),
            "{unit}"
        );
    }
}
