//! `DIR/INDEX.md`: every file `build` writes, in bootstrap order, with who reads it, where it
//! goes and the command that applies it, as the emitter that wrote it said; and the same lines
//! in the header of every YAML file.

#[path = "build_common/mod.rs"]
mod build_common;

use build_common::{all_intents, emit_file};

#[test]
fn index_lists_every_file_once_in_bootstrap_order() {
    for intent in all_intents() {
        let files = emit_file(&intent);
        let index = String::from_utf8(
            files
                .get("INDEX.md")
                .cloned()
                .unwrap_or_else(|| panic!("{intent}: no INDEX.md")),
        )
        .expect("UTF-8");
        for path in files.keys().filter(|p| *p != "INDEX.md") {
            let row = format!("| `{path}` | ");
            assert_eq!(
                index.matches(&row).count(),
                1,
                "{intent}: {path} is not listed once:\n{index}"
            );
        }
        // Sections in bootstrap order.
        let order = ["## 1.", "## 2.", "## 3.", "## 4.", "## 5.", "## 6."];
        let at: Vec<usize> = order.iter().filter_map(|h| index.find(h)).collect();
        assert!(
            at.windows(2).all(|w| w[0] < w[1]),
            "{intent}: sections out of order"
        );
        assert!(!at.is_empty(), "{intent}: no section");
        // Every YAML file says where it goes, under the generated-by header.
        for (path, bytes) in &files {
            if !path.ends_with(".yaml") {
                continue;
            }
            let text = String::from_utf8_lossy(bytes);
            let head: Vec<&str> = text.lines().take_while(|l| l.starts_with('#')).collect();
            for key in ["# read by: ", "# goes to: ", "# apply: "] {
                assert!(
                    head.iter().any(|l| l.starts_with(key)),
                    "{intent}: {path} lacks `{key}`:\n{text}"
                );
            }
        }
    }
}

#[test]
fn kubeadm_index_names_commands_and_install_paths() {
    let files = emit_file("examples/kubeadm-calico-overlay.yaml");
    let index = String::from_utf8(files["INDEX.md"].clone()).expect("UTF-8");
    for row in [
        "| `kubeadm/init.yaml` | kubeadm init | `/etc/netc/kubeadm/init.yaml` on cp-1 | `kubeadm init --config /etc/netc/kubeadm/init.yaml` |",
        "| `kubeadm/join-worker-1.yaml` | kubeadm join | `/etc/netc/kubeadm/join-worker-1.yaml` on worker-1 | `kubeadm join --config /etc/netc/kubeadm/join-worker-1.yaml` |",
        "| `host/worker-2/sysctl.conf` | systemd-sysctl (netc apply also sets them at once) | `/etc/sysctl.d/90-netc.conf` on worker-2 | `netc apply examples/kubeadm-calico-overlay.yaml --node worker-2` |",
        "| `policies/production.yaml` | the API server | the cluster | `kubectl apply -f policies/production.yaml` |",
    ] {
        assert!(index.contains(row), "missing row {row}\n{index}");
    }
    // Bootstrap order: nodes, then kubeadm init, then joins, then the network, then policies.
    let pos = |s: &str| {
        index
            .find(s)
            .unwrap_or_else(|| panic!("{s} not in INDEX.md"))
    };
    assert!(pos("host/cp-1/sysctl.conf") < pos("kubeadm/init.yaml"));
    assert!(pos("kubeadm/init.yaml") < pos("kubeadm/join-worker-1.yaml"));
    assert!(pos("kubeadm/join-worker-1.yaml") < pos("calico/installation.yaml"));
    assert!(pos("calico/installation.yaml") < pos("policies/production.yaml"));
}

#[test]
fn calico_pool_files_say_which_to_use() {
    let files = emit_file("examples/kubeadm-calico-overlay.yaml");
    let installation = String::from_utf8_lossy(&files["calico/installation.yaml"]).into_owned();
    let ippool = String::from_utf8_lossy(&files["calico/ippool.yaml"]).into_owned();
    // Both still define default-ipv4-ippool (the operator's and calicoctl's form) ...
    assert!(installation.contains("name: default-ipv4-ippool"));
    assert!(ippool.contains("name: default-ipv4-ippool"));
    // ... and each says which one applies.
    assert!(
        installation.contains("# note:") && installation.contains("not ippool.yaml"),
        "{installation}"
    );
    assert!(
        ippool.contains("# note:") && ippool.contains("never both"),
        "{ippool}"
    );
    let index = String::from_utf8_lossy(&files["INDEX.md"]).into_owned();
    assert!(
        index.contains("- `calico/ippool.yaml`: the same pools as installation.yaml"),
        "{index}"
    );
}
