//! Stage 4: emitters, one module per target. Each is a pure function of the Plan that hands
//! finished files to an [`ArtifactSink`]; only `output` (and `apply`) write anything to disk.
//!
//! Structured formats are typed serde structs serialized here ([`yaml`], [`json`]); text
//! formats (shell, systemd units) are minijinja templates. Nothing builds YAML/JSON by hand.

pub mod calico;
pub mod canal;
pub mod canonical;
pub mod cilium;
pub mod cloud_init;
pub mod cni;
pub mod config_map;
pub mod distribution;
pub mod firewall;
pub mod flannel;
pub mod flannel_kustomize;
pub mod flanneld;
pub mod fleet;
pub mod host;
pub mod index;
pub mod k3s;
pub mod kubeadm;
pub mod kubeconfig;
pub mod manual;
pub mod policies;
pub mod rke2;
pub mod text;

use serde::Serialize;

pub use index::{Consumer, INDEX_PATH, Stage};

use crate::intent::Role;
use crate::plan::{NodePlan, Plan};

pub use host::holds_credentials;

/// Where emitters put finished files. Paths are relative, `/`-separated (`cni/worker-1/10-netc.conflist`).
pub trait ArtifactSink {
    /// Says, before the file's `put`, who reads `path`, where it goes and how it is applied
    /// (INDEX.md and the YAML header lines). Sinks that only write or compare ignore it.
    fn read_by(&mut self, path: &str, consumer: Consumer) {
        let _ = (path, consumer);
    }

    /// Takes one finished file. Emitters call it once per path.
    fn put(&mut self, path: String, contents: Vec<u8>) -> Result<(), EmitError>;

    /// Takes one finished file that nodes install (`netc apply`), saying where. Sinks that
    /// only write or compare the build output ignore `install`.
    fn put_installed(
        &mut self,
        path: String,
        contents: Vec<u8>,
        install: Install,
    ) -> Result<(), EmitError> {
        let _ = install;
        self.put(path, contents)
    }
}

/// What an installed artifact becomes on a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A file at this absolute host path (under `netc apply --root`).
    File(String),
    /// A ruleset loaded exactly as emitted by one `nft -f` transaction (the `inet netc` table).
    NftRuleset,
}

/// Which nodes install an artifact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OnNodes {
    /// The one node of that name.
    Node(String),
    /// Every node of that role.
    Role(Role),
    /// Every node.
    All,
}

/// Where an artifact is installed: on which nodes, as what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Install {
    pub on: OnNodes,
    pub target: Target,
}

impl Install {
    /// Installed on node `node` only.
    pub fn on_node(node: &str, target: Target) -> Self {
        Self {
            on: OnNodes::Node(node.to_owned()),
            target,
        }
    }

    /// A file at `host_path` on node `node` only.
    pub fn file(node: &str, host_path: impl Into<String>) -> Self {
        Self::on_node(node, Target::File(host_path.into()))
    }

    /// A file at `host_path` on every node.
    pub fn everywhere_file(host_path: impl Into<String>) -> Self {
        Self {
            on: OnNodes::All,
            target: Target::File(host_path.into()),
        }
    }

    /// A file at `host_path` on every node of `role`.
    pub fn role_file(role: Role, host_path: impl Into<String>) -> Self {
        Self {
            on: OnNodes::Role(role),
            target: Target::File(host_path.into()),
        }
    }

    /// Whether `node` installs it.
    pub fn applies_to(&self, node: &NodePlan) -> bool {
        match &self.on {
            OnNodes::Node(name) => *name == node.name,
            OnNodes::Role(role) => *role == node.role,
            OnNodes::All => true,
        }
    }
}

/// One artifact a node installs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeArtifact {
    /// Its path in the build output (`host/worker-1/sysctl.conf`).
    pub path: String,
    pub target: Target,
    pub contents: Vec<u8>,
}

/// Keeps the artifacts one node installs, in emit order.
struct NodeArtifacts<'a> {
    node: &'a NodePlan,
    artifacts: Vec<NodeArtifact>,
}

impl ArtifactSink for NodeArtifacts<'_> {
    fn put(&mut self, _path: String, _contents: Vec<u8>) -> Result<(), EmitError> {
        Ok(())
    }

    fn put_installed(
        &mut self,
        path: String,
        contents: Vec<u8>,
        install: Install,
    ) -> Result<(), EmitError> {
        if install.applies_to(self.node) {
            self.artifacts.push(NodeArtifact {
                path,
                target: install.target,
                contents,
            });
        }
        Ok(())
    }
}

/// The artifacts `node` installs, exactly as `build` emits them (what `netc apply` puts on the
/// host); `None` when the Plan has no such node.
pub fn node_artifacts(
    plan: &Plan,
    source: &str,
    node: &str,
) -> Result<Option<Vec<NodeArtifact>>, EmitError> {
    let Some(node_plan) = plan.node(node) else {
        return Ok(None);
    };
    let mut sink = NodeArtifacts {
        node: node_plan,
        artifacts: Vec::new(),
    };
    emit_all(Context::new(plan, source).for_node(node), &mut sink)?;
    Ok(Some(sink.artifacts))
}

/// An in-memory sink: path → contents, sorted (tests, `--check`, goldens).
impl ArtifactSink for std::collections::BTreeMap<String, Vec<u8>> {
    fn put(&mut self, path: String, contents: Vec<u8>) -> Result<(), EmitError> {
        if self.insert(path.clone(), contents).is_some() {
            return Err(EmitError::DuplicatePath(path));
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    #[error("no emitter said who reads {0} (ArtifactSink::read_by)")]
    Undescribed(String),
    #[error("two emitters wrote {0}")]
    DuplicatePath(String),
    #[error("cannot serialize {path}: {message}")]
    Serialize { path: String, message: String },
    #[error("cannot render template {name}: {message}")]
    Template { name: String, message: String },
    #[error("cannot write {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// What every emitter gets: the Plan and the name of the intent file (for headers).
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub plan: &'a Plan,
    /// The intent file as the user named it (`examples/site-a.yaml`).
    pub source: &'a str,
    /// `Some(name)`: emit only node `name`'s per-node files (and the cluster-wide ones), as
    /// `apply` needs; `None` (`build`): every node's. A node's files are the same either way.
    pub node: Option<&'a str>,
}

impl<'a> Context<'a> {
    /// Every node's files (`netc build`).
    pub fn new(plan: &'a Plan, source: &'a str) -> Self {
        Self {
            plan,
            source,
            node: None,
        }
    }

    /// Only `node`'s per-node files, plus the cluster-wide ones (`netc apply`).
    pub fn for_node(self, node: &'a str) -> Self {
        Self {
            node: Some(node),
            ..self
        }
    }

    /// The nodes whose per-node files to emit, in Plan order.
    pub fn nodes(&self) -> impl Iterator<Item = &'a NodePlan> + use<'a> {
        let only = self.node;
        self.plan
            .nodes
            .iter()
            .filter(move |n| only.is_none_or(|name| n.name == name))
    }

    /// The "generated by netc" header line, for formats with `#` comments. The file name is
    /// the user's and may hold anything a file name can, line breaks too: it is escaped so
    /// that it stays inside the comment.
    pub fn hash_header(&self) -> String {
        format!(
            "{}{}; do not edit\n",
            crate::intent::GENERATED_MARK,
            text::comment_text(self.source)
        )
    }
}

/// Runs every emitter that applies to the Plan, in a fixed order.
pub fn emit_all(ctx: Context<'_>, sink: &mut dyn ArtifactSink) -> Result<(), EmitError> {
    let mut indexed = index::Indexed::new(sink, ctx.source);
    emit_installable(ctx, &mut indexed)?;
    fleet::emit(ctx, &mut indexed)?;
    indexed.finish()
}

/// Every emitter but the fleet's, whose mounts are derived from what these install.
fn emit_installable(ctx: Context<'_>, sink: &mut dyn ArtifactSink) -> Result<(), EmitError> {
    kubeadm::emit(ctx, sink)?;
    rke2::emit(ctx, sink)?;
    k3s::emit(ctx, sink)?;
    canonical::emit(ctx, sink)?;
    manual::emit(ctx, sink)?;
    cloud_init::emit(ctx, sink)?;
    cni::emit(ctx, sink)?;
    flannel::emit(ctx, sink)?;
    flannel_kustomize::emit(ctx, sink)?;
    canal::emit(ctx, sink)?;
    calico::emit(ctx, sink)?;
    cilium::emit(ctx, sink)?;
    policies::emit(ctx, sink)?;
    firewall::emit(ctx, sink)?;
    host::emit(ctx, sink)?;
    Ok(())
}

/// One YAML document from a typed value, with the header comment first.
pub fn yaml<T: Serialize>(ctx: Context<'_>, path: &str, value: &T) -> Result<Vec<u8>, EmitError> {
    yaml_documents(ctx, path, &[value])
}

/// A multi-document YAML file (`---` between documents), header first.
pub fn yaml_documents<T: Serialize>(
    ctx: Context<'_>,
    path: &str,
    docs: &[T],
) -> Result<Vec<u8>, EmitError> {
    yaml_documents_noted(ctx, path, &[], docs)
}

/// Like [`yaml_documents`], with `notes` as further `# ` comment lines under the header
/// (placeholders the user must fill in, and the like).
pub fn yaml_documents_noted<T: Serialize>(
    ctx: Context<'_>,
    path: &str,
    notes: &[&str],
    docs: &[T],
) -> Result<Vec<u8>, EmitError> {
    let mut out = ctx.hash_header();
    for note in notes {
        out.push_str("# ");
        out.push_str(note);
        out.push('\n');
    }
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        let text = serde_saphyr::to_string(doc).map_err(|e| EmitError::Serialize {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        out.push_str(&text);
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    Ok(out.into_bytes())
}

/// Pretty JSON from a typed value (JSON has no comments: no header), newline-terminated.
pub fn json<T: Serialize>(path: &str, value: &T) -> Result<Vec<u8>, EmitError> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| EmitError::Serialize {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    text.push('\n');
    Ok(text.into_bytes())
}
