//! A core/v1 ConfigMap, for the targets that ship their settings as one (flannel's
//! `kube-flannel-cfg`, Calico's `canal-config`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{EmitError, json};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigMap {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    data: BTreeMap<&'static str, String>,
}

#[derive(Serialize)]
struct Metadata {
    name: &'static str,
    namespace: &'static str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    labels: BTreeMap<&'static str, &'static str>,
}

impl ConfigMap {
    pub fn new(
        name: &'static str,
        namespace: &'static str,
        labels: BTreeMap<&'static str, &'static str>,
    ) -> Self {
        Self {
            api_version: "v1",
            kind: "ConfigMap",
            metadata: Metadata {
                name,
                namespace,
                labels,
            },
            data: BTreeMap::new(),
        }
    }

    /// `key` holds `value` as text.
    pub fn insert(&mut self, key: &'static str, value: String) {
        self.data.insert(key, value);
    }

    /// `key` holds `value` as a JSON document, written as [`json`] writes files (`path` names the
    /// artifact in errors).
    pub fn insert_json<T: Serialize>(
        &mut self,
        path: &str,
        key: &'static str,
        value: &T,
    ) -> Result<(), EmitError> {
        let text = String::from_utf8(json(path, value)?).map_err(|e| EmitError::Serialize {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        self.data.insert(key, text);
        Ok(())
    }
}
