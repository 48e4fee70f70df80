//! `host/<node>/`: the node's kernel settings (`sysctl.conf`, sysctl.d format), kernel modules
//! (`modules.conf`, modules-load.d format), static routes to other nodes' pod subnets
//! (`routes.txt`, only when netc routes pods itself) and proxy environment (`proxy.env`, only
//! when the intent has a proxy; on kubeadm also `containerd-proxy.conf`, the containerd
//! drop-in that sends image pulls through the proxy).
//!
//! `apply` installs `sysctl.conf`, `modules.conf`, `proxy.env` and the containerd drop-in where
//! systemd reads them ([`SYSCTL_PATH`], [`MODULES_PATH`], [`PROXY_ENV_PATH`],
//! [`CONTAINERD_PROXY_PATH`]); it programs the routes itself over netlink, so `routes.txt` is
//! for people and other tools.

use serde::Serialize;

use super::{ArtifactSink, Context, EmitError, Install, text};
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
            items,
        };
        let installed = |host_path: &str| Some(Install::file(&node.name, host_path));
        put(
            sink,
            &format!("{dir}/sysctl.conf"),
            "host/sysctl.conf",
            &page(Items::Sysctls(&node.sysctls)),
            installed(SYSCTL_PATH),
        )?;
        put(
            sink,
            &format!("{dir}/modules.conf"),
            "host/modules.conf",
            &page(Items::Modules(&node.modules)),
            installed(MODULES_PATH),
        )?;
        if !node.routes.is_empty() {
            put(
                sink,
                &format!("{dir}/routes.txt"),
                "host/routes.txt",
                &page(Items::Routes(&node.routes)),
                None,
            )?;
        }
        if let Some(vars) = &proxy {
            put(
                sink,
                &format!("{dir}/proxy.env"),
                "host/proxy.env",
                &page(Items::Vars(vars)),
                installed(PROXY_ENV_PATH),
            )?;
            if runs_containerd_unit(ctx.plan) {
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
                        install_path: CONTAINERD_PROXY_PATH,
                        vars: upper,
                    },
                    installed(CONTAINERD_PROXY_PATH),
                )?;
            }
        }
    }
    Ok(())
}

/// The containerd drop-in's file name under `host/<node>/`.
pub const CONTAINERD_PROXY_FILE: &str = "containerd-proxy.conf";
/// Where the drop-in goes on the node: a `containerd.service.d` drop-in (systemd.unit(5)).
pub const CONTAINERD_PROXY_PATH: &str = "/etc/systemd/system/containerd.service.d/http-proxy.conf";

/// Whether the node's container runtime is the distribution-neutral `containerd.service` that
/// kubeadm nodes run. RKE2 and k3s start their own embedded containerd (proxy variables in
/// `/etc/default/rke2-*`/`k3s*`), Canonical Kubernetes its snap's.
fn runs_containerd_unit(plan: &crate::plan::Plan) -> bool {
    matches!(plan.distribution, Distribution::Kubeadm)
}

/// The context of `templates/host/containerd-proxy.conf.j2`.
#[derive(Serialize)]
struct DropIn<'a> {
    source: &'a str,
    node: &'a str,
    install_path: &'static str,
    vars: Vec<&'a EnvVar>,
}

fn put<T: Serialize>(
    sink: &mut dyn ArtifactSink,
    path: &str,
    template: &str,
    ctx: &T,
    install: Option<Install>,
) -> Result<(), EmitError> {
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
