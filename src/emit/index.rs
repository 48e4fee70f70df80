//! `DIR/INDEX.md` and the YAML header lines that say where each file goes. The knowledge is the
//! emitters': each says, where it writes a file, who reads it, where it goes and the command
//! that applies it ([`ArtifactSink::read_by`] before the file's `put`); this module only
//! collects what they said (an installed file's host path and nodes come from its `Install`)
//! and renders it in bootstrap order.

use serde::Serialize;

use super::{ArtifactSink, EmitError, Install, OnNodes, Target, text};
use crate::intent::Role;

/// The order a person bootstraps a cluster in; INDEX.md lists files by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Stage {
    /// On each node before the cluster exists: `netc apply` (sysctls, modules, firewall, CNI
    /// files, the distribution's node configuration).
    Nodes,
    /// The first control-plane node brings the cluster up.
    Bootstrap,
    /// The other nodes join.
    Join,
    /// The network add-on, once the API server answers.
    Network,
    /// NetworkPolicies.
    Policies,
    /// netc's own agent, keeping the nodes converged.
    Fleet,
}

impl Stage {
    fn title(self) -> &'static str {
        match self {
            Stage::Nodes => "1. Prepare every node",
            Stage::Bootstrap => "2. Bring up the first control-plane node",
            Stage::Join => "3. Join the other nodes",
            Stage::Network => "4. Install the pod network",
            Stage::Policies => "5. Apply the NetworkPolicies",
            Stage::Fleet => "6. Keep the nodes converged (optional)",
        }
    }
}

/// Who reads one artifact, where it goes and how it is applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consumer {
    pub stage: Stage,
    /// Who reads it (`kubeadm`, `the container runtime (CNI)`, `the Tigera operator`).
    pub reader: String,
    /// Where it goes, for files no node installs (`the cluster (kubectl)`); an installed
    /// file's host path comes from its `Install`.
    pub location: Option<String>,
    /// The command that applies it; `{intent}` stands for the intent file.
    pub command: String,
    /// Anything else a person must know to use it (which of two alternatives, ...).
    pub note: Option<String>,
}

impl Consumer {
    pub fn new(stage: Stage, reader: impl Into<String>, command: impl Into<String>) -> Self {
        Self {
            stage,
            reader: reader.into(),
            location: None,
            command: command.into(),
            note: None,
        }
    }

    /// A file `netc apply` installs on the nodes, read there by `reader`.
    pub fn netc_apply(reader: impl Into<String>) -> Self {
        Self::new(Stage::Nodes, reader, "netc apply {intent} --node NODE")
    }

    /// A file applied to the cluster with `kubectl apply -f`.
    pub fn kubectl(stage: Stage, path: &str) -> Self {
        Self::new(stage, "the API server", format!("kubectl apply -f {path}")).at("the cluster")
    }

    /// A file applied to the cluster with `kubectl apply --server-side -f` (no
    /// last-applied-configuration annotation: the agent's ConfigMap too large for one).
    pub fn kubectl_server_side(stage: Stage, path: &str) -> Self {
        Self::new(
            stage,
            "the API server",
            format!("kubectl apply --server-side -f {path}"),
        )
        .at("the cluster")
    }

    pub fn at(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
    }

    pub fn noted(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
}

/// One row of INDEX.md.
#[derive(Serialize)]
struct Row {
    path: String,
    reader: String,
    location: String,
    command: String,
    note: Option<String>,
}

#[derive(Serialize)]
struct Section {
    title: &'static str,
    rows: Vec<Row>,
}

/// Where an installed file goes, in words.
fn install_location(install: &Install) -> String {
    let what = match &install.target {
        Target::File(path) => format!("`{path}`"),
        Target::NftRuleset => "the `inet netc` nftables table".to_owned(),
    };
    match &install.on {
        OnNodes::Node(name) => format!("{what} on {name}"),
        OnNodes::Role(Role::ControlPlane) => format!("{what} on every control-plane node"),
        OnNodes::Role(Role::Worker) => format!("{what} on every worker"),
        OnNodes::All => format!("{what} on every node"),
    }
}

/// Wraps the sink `emit_all` writes into: records what the emitters say about each file, puts
/// it into the header of YAML files, and writes INDEX.md at the end.
pub(super) struct Indexed<'a> {
    inner: &'a mut dyn ArtifactSink,
    source: &'a str,
    pending: Option<(String, Consumer)>,
    entries: Vec<(Stage, usize, Row)>,
}

/// INDEX.md's path in DIR.
pub const INDEX_PATH: &str = "INDEX.md";

impl<'a> Indexed<'a> {
    pub(super) fn new(inner: &'a mut dyn ArtifactSink, source: &'a str) -> Self {
        Self {
            inner,
            source,
            pending: None,
            entries: Vec::new(),
        }
    }

    /// Takes what was said about `path`, adds the header lines to a YAML file.
    fn describe(
        &mut self,
        path: &str,
        contents: Vec<u8>,
        install: Option<&Install>,
    ) -> Result<Vec<u8>, EmitError> {
        let consumer = match self.pending.take() {
            Some((p, c)) if p == path => c,
            _ => return Err(EmitError::Undescribed(path.to_owned())),
        };
        let (location, command) = resolve(&consumer, install, self.source);
        let contents = if path.ends_with(".yaml") {
            described(self.source, contents, &consumer, install)
        } else {
            contents
        };
        let order = self.entries.len();
        self.entries.push((
            consumer.stage,
            order,
            Row {
                path: path.to_owned(),
                reader: consumer.reader,
                location,
                command,
                note: consumer.note,
            },
        ));
        Ok(contents)
    }

    /// Writes INDEX.md: every file, in bootstrap order (then emit order).
    pub(super) fn finish(mut self) -> Result<(), EmitError> {
        self.entries
            .sort_by_key(|(stage, order, _)| (*stage, *order));
        let mut sections: Vec<Section> = Vec::new();
        for (stage, _, row) in self.entries {
            match sections.last_mut() {
                Some(s) if s.title == stage.title() => s.rows.push(row),
                _ => sections.push(Section {
                    title: stage.title(),
                    rows: vec![row],
                }),
            }
        }
        #[derive(Serialize)]
        struct Index {
            source: String,
            sections: Vec<Section>,
        }
        let text = text::render(
            "index.md",
            &Index {
                source: text::comment_text(self.source),
                sections,
            },
        )?;
        let mut text = text;
        if !text.ends_with('\n') {
            text.push('\n');
        }
        self.inner.put(INDEX_PATH.to_owned(), text.into_bytes())
    }
}

/// Where a file goes and the command that applies it, in words.
fn resolve(consumer: &Consumer, install: Option<&Install>, source: &str) -> (String, String) {
    let location = match (install, &consumer.location) {
        (Some(install), _) => install_location(install),
        (None, Some(at)) => at.clone(),
        (None, None) => "the build output only".to_owned(),
    };
    // The intent's file name as header comments show it: control characters escaped, so a
    // name cannot add a line to INDEX.md or to a YAML header.
    let mut command = consumer
        .command
        .replace("{intent}", &text::comment_text(source));
    if let Some(Install {
        on: OnNodes::Node(node),
        ..
    }) = install
    {
        command = command.replace("NODE", node);
    }
    (location, command)
}

/// The first header line [`described`] adds.
const READ_BY: &str = "# read by: ";

/// A YAML file with its consumer's lines under the "generated by netc" header (unchanged when
/// it has them). Emitters that copy a file elsewhere (cloud-init `write_files`) call it so the
/// copy is the same bytes as the file.
pub fn described(
    source: &str,
    contents: Vec<u8>,
    consumer: &Consumer,
    install: Option<&Install>,
) -> Vec<u8> {
    let text = match String::from_utf8(contents) {
        Ok(text) => text,
        Err(e) => return e.into_bytes(),
    };
    if text
        .lines()
        .take_while(|l| l.starts_with('#'))
        .any(|l| l.starts_with(READ_BY))
    {
        return text.into_bytes();
    }
    let (location, command) = resolve(consumer, install, source);
    let mut lines = vec![
        format!("{READ_BY}{}", consumer.reader),
        format!("# goes to: {location}"),
        format!("# apply: {command}"),
    ];
    if let Some(note) = &consumer.note {
        lines.push(format!("# note: {note}"));
    }
    let block: String = lines.iter().map(|l| text::comment_text(l) + "\n").collect();
    // After the "generated by netc" line (after `#cloud-config`, which must stay first).
    let at = text
        .find(crate::intent::GENERATED_MARK)
        .and_then(|i| text[i..].find('\n').map(|j| i + j + 1))
        .unwrap_or(0);
    let mut out = String::with_capacity(text.len() + block.len());
    out.push_str(&text[..at]);
    out.push_str(&block);
    out.push_str(&text[at..]);
    out.into_bytes()
}

impl ArtifactSink for Indexed<'_> {
    fn read_by(&mut self, path: &str, consumer: Consumer) {
        self.pending = Some((path.to_owned(), consumer));
    }

    fn put(&mut self, path: String, contents: Vec<u8>) -> Result<(), EmitError> {
        let contents = self.describe(&path, contents, None)?;
        self.inner.put(path, contents)
    }

    fn put_installed(
        &mut self,
        path: String,
        contents: Vec<u8>,
        install: Install,
    ) -> Result<(), EmitError> {
        let contents = self.describe(&path, contents, Some(&install))?;
        self.inner.put_installed(path, contents, install)
    }
}
