//! Kubeconfig files (k8s.io/client-go `tools/clientcmd/api/v1/types.go`) for components netc
//! configures on the host: the API server, the CA file and the credential files by path, never
//! their contents (netc invents no secret; each file's header says what to put where).

use serde::Serialize;

/// `apiVersion: v1`, `kind: Config` with one cluster, one user, one context (current).
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Kubeconfig {
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    kind: &'static str,
    clusters: Vec<NamedCluster>,
    users: Vec<NamedUser>,
    contexts: Vec<NamedContext>,
    current_context: String,
}

#[derive(Serialize)]
struct NamedCluster {
    name: String,
    cluster: Cluster,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Cluster {
    #[serde(skip_serializing_if = "Option::is_none")]
    server: Option<String>,
    certificate_authority: String,
}

#[derive(Serialize)]
struct NamedUser {
    name: String,
    user: Credentials,
}

/// How the component authenticates (`AuthInfo`).
#[derive(Serialize)]
#[serde(untagged)]
pub enum Credentials {
    /// A bearer token read from a file (re-read when it changes: rotatable).
    TokenFile {
        #[serde(rename = "tokenFile")]
        token_file: String,
    },
    /// A client certificate and its key.
    ClientCertificate {
        #[serde(rename = "client-certificate")]
        certificate: String,
        #[serde(rename = "client-key")]
        key: String,
    },
}

#[derive(Serialize)]
struct NamedContext {
    name: String,
    context: Context,
}

#[derive(Serialize)]
struct Context {
    cluster: String,
    user: String,
}

impl Kubeconfig {
    /// `server` is `host:port` (`https://` is added); `None` leaves it out.
    pub fn new(
        cluster: &str,
        server: Option<String>,
        ca_file: &str,
        user: &str,
        credentials: Credentials,
    ) -> Self {
        Self {
            api_version: "v1",
            kind: "Config",
            clusters: vec![NamedCluster {
                name: cluster.to_owned(),
                cluster: Cluster {
                    server: server.map(|s| format!("https://{s}")),
                    certificate_authority: ca_file.to_owned(),
                },
            }],
            users: vec![NamedUser {
                name: user.to_owned(),
                user: credentials,
            }],
            contexts: vec![NamedContext {
                name: user.to_owned(),
                context: Context {
                    cluster: cluster.to_owned(),
                    user: user.to_owned(),
                },
            }],
            current_context: user.to_owned(),
        }
    }
}
