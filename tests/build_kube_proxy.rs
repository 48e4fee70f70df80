//! kube-proxy tuning (`kubeProxy.conntrack`, `kubeProxy.ipvs`) reaches every distribution in its
//! own form: KubeProxyConfiguration fields for kubeadm, `kube-proxy-arg` entries for RKE2 and
//! k3s, `extra-node-kube-proxy-args` for Canonical Kubernetes. Each flag is one kube-proxy
//! defines (kubernetes/kubernetes `cmd/kube-proxy/app/options.go`), each field one of
//! `staging/src/k8s.io/kube-proxy/config/v1alpha1/types.go`; and IPVS mode lists the seeds'
//! kernel modules.

mod build_common;

use build_common::emit_text;
use serde_json::Value;

fn intent(dist: &str, kube_proxy: &str) -> String {
    let (version, plugin) = match dist {
        "canonical" => ("v1.31.2", "cilium"),
        "rke2" => ("v1.31.4+rke2r1", "canal"),
        "k3s" => ("v1.31.4+k3s1", "flannel"),
        _ => ("v1.31.2", "flannel"),
    };
    format!(
        "apiVersion: netc/v1alpha1
kind: NetworkIntent
metadata: {{name: kp}}
cluster:
  distribution: {dist}
  kubernetesVersion: {version}
  podCIDR: 10.244.0.0/16
  serviceCIDR: 10.96.0.0/12
  kubeProxy: {kube_proxy}
cni: {{plugin: {plugin}}}
nodes:
  - {{name: cp-1, role: control-plane, address: 10.0.1.10/24}}
  - {{name: worker-1, role: worker, address: 10.0.1.11/24}}
"
    )
}

const TUNED: &str = "{mode: ipvs, ipvsScheduler: lc, conntrack: {maxPerCore: 65536, min: 262144, tcpEstablishedTimeout: 2h, tcpCloseWaitTimeout: 30m}, ipvs: {syncPeriod: 1m, minSyncPeriod: 5s, excludeCIDRs: [192.0.2.0/24, 198.51.100.0/24]}}";

/// The flags TUNED must become, as `name=value`.
const FLAGS: &[&str] = &[
    "proxy-mode=ipvs",
    "ipvs-scheduler=lc",
    "ipvs-sync-period=1m",
    "ipvs-min-sync-period=5s",
    "ipvs-exclude-cidrs=192.0.2.0/24,198.51.100.0/24",
    "conntrack-max-per-core=65536",
    "conntrack-min=262144",
    "conntrack-tcp-timeout-established=2h",
    "conntrack-tcp-timeout-close-wait=30m",
];

/// kube-proxy's flags for these settings (`cmd/kube-proxy/app/options.go`, `AddFlags`).
const KUBE_PROXY_FLAGS: &[&str] = &[
    "proxy-mode",
    "ipvs-scheduler",
    "ipvs-strict-arp",
    "ipvs-sync-period",
    "ipvs-min-sync-period",
    "ipvs-exclude-cidrs",
    "conntrack-max-per-core",
    "conntrack-min",
    "conntrack-tcp-timeout-established",
    "conntrack-tcp-timeout-close-wait",
];

fn yaml(bytes: &[u8]) -> Value {
    let text = String::from_utf8_lossy(bytes);
    let mut docs: Vec<Value> = serde_saphyr::from_multiple(&text).expect("YAML");
    docs.retain(|d| !d.is_null());
    if docs.len() == 1 {
        docs.remove(0)
    } else {
        Value::Array(docs)
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn kubeadm_writes_conntrack_and_ipvs_fields() {
    let files = emit_text("kp.yaml", &intent("kubeadm", TUNED));
    let docs = yaml(&files["kubeadm/init.yaml"]);
    let kp = docs
        .as_array()
        .and_then(|d| d.iter().find(|d| d["kind"] == "KubeProxyConfiguration"))
        .expect("KubeProxyConfiguration");
    assert_eq!(kp["mode"], "ipvs");
    assert_eq!(kp["ipvs"]["scheduler"], "lc");
    assert_eq!(kp["ipvs"]["syncPeriod"], "1m");
    assert_eq!(kp["ipvs"]["minSyncPeriod"], "5s");
    assert_eq!(
        strings(&kp["ipvs"]["excludeCIDRs"]),
        ["192.0.2.0/24", "198.51.100.0/24"]
    );
    assert_eq!(kp["conntrack"]["maxPerCore"], 65536);
    assert_eq!(kp["conntrack"]["min"], 262144);
    assert_eq!(kp["conntrack"]["tcpEstablishedTimeout"], "2h");
    assert_eq!(kp["conntrack"]["tcpCloseWaitTimeout"], "30m");
    // Untuned: no conntrack section, so kube-proxy keeps its defaults.
    let plain = emit_text("kp.yaml", &intent("kubeadm", "{mode: ipvs}"));
    let docs = yaml(&plain["kubeadm/init.yaml"]);
    let kp = docs
        .as_array()
        .and_then(|d| d.iter().find(|d| d["kind"] == "KubeProxyConfiguration"))
        .expect("KubeProxyConfiguration");
    assert!(kp.get("conntrack").is_none(), "{kp}");
    assert!(kp["ipvs"].get("syncPeriod").is_none(), "{kp}");
}

#[test]
fn rke2_and_k3s_write_kube_proxy_args_on_every_node() {
    for dist in ["rke2", "k3s"] {
        let files = emit_text("kp.yaml", &intent(dist, TUNED));
        for node in ["cp-1", "worker-1"] {
            let config = yaml(&files[&format!("{dist}/{node}/config.yaml")]);
            let args = strings(&config["kube-proxy-arg"]);
            for flag in FLAGS {
                assert!(
                    args.contains(&(*flag).to_owned()),
                    "{dist}/{node}: {flag} missing in {args:?}"
                );
            }
            for a in &args {
                let name = a.split('=').next().unwrap_or_default();
                assert!(
                    KUBE_PROXY_FLAGS.contains(&name),
                    "{dist}: kube-proxy has no flag --{name}"
                );
            }
        }
    }
}

#[test]
fn canonical_writes_extra_kube_proxy_args() {
    let files = emit_text("kp.yaml", &intent("canonical", TUNED));
    let boot = yaml(&files["canonical/bootstrap.yaml"]);
    let args = &boot["extra-node-kube-proxy-args"];
    for flag in FLAGS {
        let (name, value) = flag.split_once('=').expect("name=value");
        assert_eq!(args[format!("--{name}")], value, "{flag} in {args}");
    }
}

#[test]
fn ipvs_mode_lists_the_seed_modules_and_the_scheduler() {
    let files = emit_text("kp.yaml", &intent("kubeadm", TUNED));
    let modules = String::from_utf8_lossy(&files["host/worker-1/modules.conf"]).into_owned();
    let names: Vec<&str> = modules.lines().filter(|l| !l.starts_with('#')).collect();
    for m in [
        "ip_vs",
        "ip_vs_rr",
        "ip_vs_wrr",
        "ip_vs_sh",
        "ip_vs_lc",
        "nf_conntrack",
    ] {
        assert!(names.contains(&m), "{m} missing: {names:?}");
    }
    let plain = emit_text("kp.yaml", &intent("kubeadm", "{mode: iptables}"));
    let modules = String::from_utf8_lossy(&plain["host/worker-1/modules.conf"]).into_owned();
    assert!(!modules.contains("ip_vs"), "{modules}");
}
