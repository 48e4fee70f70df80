//! Distribution flags that decide a data path, as each distribution reads them (issue 15):
//! k3s masquerades IPv6 pod egress only with `flannel-ipv6-masq`; k3s binds
//! kube-controller-manager and kube-scheduler to loopback, so the firewall opens neither; a
//! manual kubelet reads netc's `kubelet.conf.d` drop-in only with `--config-dir`, which netc's
//! `kubelet.env` passes.

mod build_common;

use build_common::{emit_text, repo};
use netc::diagnostic::SourceFile;
use netc::intent::Syntax;
use netc::intent::values::Protocol;
use netc::pipeline;
use netc::plan::Plan;
use netc::plan::firewall::node_firewall;
use serde_json::Value;

fn example(name: &str) -> String {
    std::fs::read_to_string(repo().join("examples").join(name)).expect("example")
}

fn plan_of(name: &str, text: &str) -> Plan {
    let checked = pipeline::check(&SourceFile::new(name, text), Syntax::Yaml);
    checked
        .valid_plan()
        .cloned()
        .unwrap_or_else(|| panic!("{name}: {:?}", checked.diagnostics))
}

fn k3s_server_config(files: &std::collections::BTreeMap<String, Vec<u8>>) -> Value {
    let bytes = &files["k3s/k3s-server/config.yaml"];
    serde_saphyr::from_str(&String::from_utf8_lossy(bytes)).expect("config.yaml")
}

/// Finding 5: dual-stack k3s with flannel masquerades IPv6 pod egress (natOutgoing holds by
/// default) only with `flannel-ipv6-masq: true`.
#[test]
fn k3s_dual_stack_masquerades_ipv6_pod_egress() {
    let text = example("k3s-dual-stack-tuned.yaml");
    let files = emit_text("k3s-ds.yaml", &text);
    let server = k3s_server_config(&files);
    assert_eq!(server["flannel-ipv6-masq"], Value::Bool(true), "{server}");
    // Agents take no server flag.
    let agent: Value = serde_saphyr::from_str(&String::from_utf8_lossy(
        &files["k3s/k3s-agent-1/config.yaml"],
    ))
    .expect("config.yaml");
    assert_eq!(agent.get("flannel-ipv6-masq"), None);
    // IPv4 only: nothing to masquerade over IPv6, no flag.
    let files = emit_text("k3s.yaml", &example("k3s-flannel.yaml"));
    let server = files
        .iter()
        .filter(|(p, _)| p.starts_with("k3s/") && p.ends_with("/config.yaml"))
        .map(|(_, b)| serde_saphyr::from_str::<Value>(&String::from_utf8_lossy(b)).expect("YAML"))
        .find(|c| c.get("flannel-backend").is_some())
        .expect("a server");
    assert_eq!(server.get("flannel-ipv6-masq"), None, "{server}");
}

/// Low: k3s binds kube-controller-manager and kube-scheduler to 127.0.0.1; the firewall does
/// not open 10257/10259 there (kubeadm still does: its components listen on every address).
#[test]
fn k3s_opens_no_controller_manager_or_scheduler_port() {
    let opened = |plan: &Plan| -> Vec<u16> {
        let cp = plan
            .nodes
            .iter()
            .find(|n| n.is_control_plane())
            .expect("control plane");
        node_firewall(plan, cp)
            .expect("firewall")
            .cluster
            .iter()
            .filter(|o| o.range.protocol == Protocol::Tcp)
            .flat_map(|o| o.range.first..=o.range.last)
            .filter(|p| [10257, 10259].contains(p))
            .collect()
    };
    let k3s = plan_of("k3s.yaml", &example("k3s-flannel.yaml"));
    assert_eq!(opened(&k3s), Vec::<u16>::new());
    let kubeadm = plan_of("kubeadm.yaml", &example("kubeadm-flannel.yaml"));
    assert_eq!(opened(&kubeadm), vec![10257, 10259]);
}

/// Finding 6: from Kubernetes 1.30 a manual node's kubelet settings are a `--config-dir`
/// drop-in, and `manual/<node>/kubelet.env` (installed beside the control plane's flags files)
/// passes that flag; below 1.30 they are the `--config` file and no flag is needed.
#[test]
fn manual_kubelet_gets_its_config_dir_flag() {
    let text = example("hard-way-manual.yaml");
    let files = emit_text("manual.yaml", &text);
    let envs: Vec<&String> = files
        .keys()
        .filter(|p| p.starts_with("manual/") && p.ends_with("/kubelet.env"))
        .collect();
    let configs = files
        .keys()
        .filter(|p| p.starts_with("manual/") && p.ends_with("/kubelet-config.yaml"))
        .count();
    assert_eq!(envs.len(), configs, "one kubelet.env per node: {envs:?}");
    for path in envs {
        let env = String::from_utf8_lossy(&files[path]).into_owned();
        let args = env
            .lines()
            .find_map(|l| l.strip_prefix("ARGS="))
            .unwrap_or_else(|| panic!("{path}: no ARGS\n{env}"));
        assert_eq!(
            args, "'--config-dir=/etc/kubernetes/kubelet.conf.d'",
            "{path}"
        );
        assert!(
            env.contains("EnvironmentFile=/etc/netc/manual/kubelet.env"),
            "{env}"
        );
    }
    // The drop-in's directory is the one the flag names.
    let plan = plan_of("manual.yaml", &text);
    assert_eq!(
        netc::emit::manual::kubelet_config_path(&plan)
            .rsplit_once('/')
            .map(|p| p.0),
        Some("/etc/kubernetes/kubelet.conf.d")
    );
    let old = text.replace("kubernetesVersion: v1.32.3", "kubernetesVersion: v1.29.4");
    let files = emit_text("manual-129.yaml", &old);
    assert!(
        !files.keys().any(|p| p.ends_with("/kubelet.env")),
        "{:?}",
        files.keys()
    );
}
