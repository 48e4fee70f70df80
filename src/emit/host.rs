//! `host/<node>/`: the node's kernel settings (`sysctl.conf`, sysctl.d format), kernel modules
//! (`modules.conf`, modules-load.d format), static routes to other nodes' pod subnets
//! (`routes.txt`, only when netc routes pods itself) and proxy environment (`proxy.env`, only
//! when the intent has a proxy), plus the container runtime's proxy in the place that runtime
//! reads it ([`RuntimeProxy`]): a `containerd-proxy.conf` drop-in, or the RKE2/k3s service's
//! environment file (`rke2-server.env`, `k3s-agent.env`, ...), so image pulls (the CNI's too)
//! go through the proxy and cluster traffic does not.
//!
//! `apply` installs `sysctl.conf`, `modules.conf`, `proxy.env` and the runtime's proxy file where
//! systemd reads them ([`SYSCTL_PATH`], [`MODULES_PATH`], [`PROXY_ENV_PATH`],
//! and [`RuntimeProxy`]'s path); it programs the routes itself over netlink, so `routes.txt` is
//! for people and other tools.

use serde::Serialize;

use super::{ArtifactSink, Consumer, Context, EmitError, Install, Stage, text};
use crate::intent::Distribution;
use crate::plan::{ModuleRequirement, Routes, Sysctl};

/// systemd-sysctl reads `/etc/sysctl.d/*.conf` at boot (sysctl.d(5)); `90-` sorts after the
/// distribution's own files, so netc's values win.
pub const SYSCTL_PATH: &str = "/etc/sysctl.d/90-netc.conf";
/// systemd-modules-load reads `/etc/modules-load.d/*.conf` at boot (modules-load.d(5)).
pub const MODULES_PATH: &str = "/etc/modules-load.d/netc.conf";
/// The proxy environment, for units' `EnvironmentFile=` and shells' `.`.
pub const PROXY_ENV_PATH: &str = "/etc/netc/proxy.env";

pub fn emit(ctx: Context<'_>, sink: &mut dyn ArtifactSink) -> Result<(), EmitError> {
    let proxy = proxy_vars(ctx);
    for node in ctx.nodes() {
        let dir = format!("host/{}", node.name);
        let page = |items| Page {
            source: ctx.source,
            node: &node.name,
            reader: None,
            items,
        };
        let installed = |host_path: &str| Some(Install::file(&node.name, host_path));
        put(
            sink,
            &format!("{dir}/sysctl.conf"),
            "host/sysctl.conf",
            &page(Items::Sysctls(&node.sysctls)),
            installed(SYSCTL_PATH),
            Consumer::netc_apply("systemd-sysctl (netc apply also sets them at once)"),
        )?;
        put(
            sink,
            &format!("{dir}/modules.conf"),
            "host/modules.conf",
            &page(Items::Modules(&node.modules)),
            installed(MODULES_PATH),
            Consumer::netc_apply("systemd-modules-load (netc apply also loads them at once)"),
        )?;
        if !node.routes.is_empty() {
            put(
                sink,
                &format!("{dir}/routes.txt"),
                "host/routes.txt",
                &page(Items::Routes(&node.routes)),
                None,
                Consumer::new(
                    Stage::Nodes,
                    "people and other tools",
                    "netc apply {intent} --node NODE",
                )
                .noted("for reading: netc apply programs these routes itself, over netlink"),
            )?;
        }
        if let Some(vars) = &proxy {
            put(
                sink,
                &format!("{dir}/proxy.env"),
                "host/proxy.env",
                &page(Items::Vars(vars)),
                installed(PROXY_ENV_PATH),
                Consumer::netc_apply("systemd units and shells (EnvironmentFile=, .)"),
            )?;
            let runtime = RuntimeProxy::of(ctx.plan.distribution, node.is_control_plane());
            match runtime {
                RuntimeProxy::DropIn { unit, path } => {
                    let upper: Vec<&EnvVar> = vars
                        .iter()
                        .filter(|v| v.name.bytes().all(|b| !b.is_ascii_lowercase()))
                        .collect();
                    put(
                        sink,
                        &format!("{dir}/{CONTAINERD_PROXY_FILE}"),
                        "host/containerd-proxy.conf",
                        &DropIn {
                            source: ctx.source,
                            node: &node.name,
                            unit,
                            install_path: path,
                            vars: upper,
                        },
                        installed(path),
                        Consumer::netc_apply(format!("systemd ({unit}'s drop-in)")).noted(
                            "then systemctl daemon-reload and restart the container runtime",
                        ),
                    )?;
                }
                RuntimeProxy::EnvFile { service } => {
                    let unit = format!("{service}.service");
                    put(
                        sink,
                        &format!("{dir}/{service}.env"),
                        "host/proxy.env",
                        &Page {
                            reader: Some(&unit),
                            ..page(Items::Vars(vars))
                        },
                        installed(&format!("/etc/default/{service}")),
                        Consumer::netc_apply(format!("{unit} (EnvironmentFile=)"))
                            .noted(format!("then systemctl restart {service}")),
                    )?;
                }
            }
        }
    }
    Ok(())
}

/// Whether the file netc installs at `host_path` holds credentials: the proxy environment and
/// every runtime proxy file (a proxy URL may carry a user and password). `apply` installs these
/// owner-only (0600); systemd, which reads them, runs as root.
pub fn holds_credentials(host_path: &str) -> bool {
    use Distribution::{Canonical, K3s, Kubeadm, Manual, Rke2};
    host_path == PROXY_ENV_PATH
        || [Kubeadm, Rke2, K3s, Canonical, Manual]
            .into_iter()
            .flat_map(|d| [RuntimeProxy::of(d, true), RuntimeProxy::of(d, false)])
            .any(|r| match r {
                RuntimeProxy::DropIn { path, .. } => path == host_path,
                RuntimeProxy::EnvFile { service } => {
                    host_path.strip_prefix("/etc/default/") == Some(service)
                }
            })
}

/// The containerd drop-in's file name under `host/<node>/`.
pub const CONTAINERD_PROXY_FILE: &str = "containerd-proxy.conf";
/// Where the drop-in goes on a kubeadm or manual node: a `containerd.service.d` drop-in
/// (systemd.unit(5)), as Kubernetes' container-runtime docs and the kubeadm provider seed do.
pub const CONTAINERD_PROXY_PATH: &str = "/etc/systemd/system/containerd.service.d/http-proxy.conf";

/// Where a node's container runtime reads its proxy, each from its distribution's own docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RuntimeProxy {
    /// A drop-in of the runtime's own systemd unit (`Environment=` lines).
    DropIn {
        unit: &'static str,
        path: &'static str,
    },
    /// The environment file of the distribution's service, `/etc/default/<service>` (its unit
    /// reads `EnvironmentFile=-/etc/default/%N`, in the units rancher/rke2 and k3s-io/k3s
    /// `install.sh` write); the service passes it on to its embedded containerd and the kubelet.
    EnvFile { service: &'static str },
}

impl RuntimeProxy {
    fn of(distribution: Distribution, control_plane: bool) -> Self {
        use RuntimeProxy::{DropIn, EnvFile};
        match (distribution, control_plane) {
            // kubeadm and "the hard way" run containerd from its own unit.
            (Distribution::Kubeadm | Distribution::Manual, _) => DropIn {
                unit: "containerd.service",
                path: CONTAINERD_PROXY_PATH,
            },
            // Canonical Kubernetes docs, "Configure proxy settings for K8s" (snap/howto/proxy).
            (Distribution::Canonical, _) => DropIn {
                unit: "snap.k8s.containerd.service",
                path: "/etc/systemd/system/snap.k8s.containerd.service.d/http-proxy.conf",
            },
            // RKE2 docs, "Configuring an HTTP proxy": /etc/default/rke2-server or rke2-agent.
            (Distribution::Rke2, true) => EnvFile {
                service: "rke2-server",
            },
            (Distribution::Rke2, false) => EnvFile {
                service: "rke2-agent",
            },
            // k3s install.sh: the server is k3s.service, an agent k3s-agent.service; their
            // own `.service.env` holds install.sh's token and URL, so netc uses /etc/default.
            (Distribution::K3s, true) => EnvFile { service: "k3s" },
            (Distribution::K3s, false) => EnvFile {
                service: "k3s-agent",
            },
        }
    }
}

/// The context of `templates/host/containerd-proxy.conf.j2`.
#[derive(Serialize)]
struct DropIn<'a> {
    source: &'a str,
    node: &'a str,
    unit: &'static str,
    install_path: &'static str,
    vars: Vec<&'a EnvVar>,
}

fn put<T: Serialize>(
    sink: &mut dyn ArtifactSink,
    path: &str,
    template: &str,
    ctx: &T,
    install: Option<Install>,
    consumer: Consumer,
) -> Result<(), EmitError> {
    sink.read_by(path, consumer);
    let bytes = text::render(template, ctx)?.into_bytes();
    match install {
        Some(install) => sink.put_installed(path.to_owned(), bytes, install),
        None => sink.put(path.to_owned(), bytes),
    }
}

/// A template context: the header facts plus one list.
#[derive(Serialize)]
struct Page<'a> {
    source: &'a str,
    node: &'a str,
    /// The service that reads the file, when it is installed for one (an RKE2/k3s env file).
    reader: Option<&'a str>,
    #[serde(flatten)]
    items: Items<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
enum Items<'a> {
    Sysctls(&'a [Sysctl]),
    Modules(&'a [ModuleRequirement]),
    Routes(&'a Routes),
    Vars(&'a [EnvVar]),
}

#[derive(Serialize)]
struct EnvVar {
    name: &'static str,
    value: String,
}

/// HTTP_PROXY, HTTPS_PROXY, NO_PROXY and their lowercase twins (curl reads only
/// `http_proxy` in lowercase, Go reads either): the same values under both spellings.
fn proxy_vars(ctx: Context<'_>) -> Option<Vec<EnvVar>> {
    let p = ctx.plan.proxy.as_ref()?;
    let mut vars = Vec::new();
    let mut pair = |upper: &'static str, lower: &'static str, value: &str| {
        let value = env_safe(value);
        vars.push(EnvVar {
            name: upper,
            value: value.clone(),
        });
        vars.push(EnvVar { name: lower, value });
    };
    if let Some(http) = &p.http {
        pair("HTTP_PROXY", "http_proxy", http);
    }
    if let Some(https) = &p.https {
        pair("HTTPS_PROXY", "https_proxy", https);
    }
    pair("NO_PROXY", "no_proxy", &p.no_proxy.join(","));
    Some(vars)
}

/// A value both systemd's EnvironmentFile and `sh` read the same way once single-quoted: the
/// characters where they differ (`'`, line breaks) are percent-encoded, as in URLs.
fn env_safe(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\'' => out.push_str("%27"),
            '\n' => out.push_str("%0A"),
            '\r' => out.push_str("%0D"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::env_safe;

    #[test]
    fn env_values_cannot_end_their_quotes() {
        assert_eq!(
            env_safe("http://u:p'w@proxy:3128"),
            "http://u:p%27w@proxy:3128"
        );
        assert_eq!(env_safe("a\nb"), "a%0Ab");
    }
}
