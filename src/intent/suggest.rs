//! Help for parse errors, from serde's own error text: "did you mean" for unknown keys and
//! values, and what a missing required key is for.

/// For serde's `unknown field `x`, expected one of `a`, `b`` (or `unknown variant ...`),
/// the closest expected name, if one is close enough to be a likely typo.
pub(crate) fn did_you_mean(message: &str) -> Option<String> {
    let unknown = between(message, "unknown field `", "`")
        .or_else(|| between(message, "unknown variant `", "`"))?;
    // Other tools' names for a node's role (k3s/RKE2 server and agent, the old kubeadm master).
    if message.contains("expected one of control-plane, worker")
        || message.contains("expected `control-plane` or `worker`")
    {
        match unknown.to_lowercase().as_str() {
            "server" | "master" | "controlplane" | "control_plane" | "controller" => {
                return Some("control-plane".to_owned());
            }
            "agent" | "node" | "minion" => return Some("worker".to_owned()),
            _ => {}
        }
    }
    let expected = message.split_once("expected ")?.1;
    let expected = expected.split(" at line ").next().unwrap_or(expected);
    let expected = expected.strip_prefix("one of ").unwrap_or(expected);
    // serde lists one name, `a` or `b`, or one of `a`, `b`, `c`.
    expected
        .split(", ")
        .flat_map(|c| c.split(" or "))
        .map(|c| c.trim_matches('`'))
        .map(|cand| {
            (
                strsim::jaro_winkler(&unknown.to_lowercase(), &cand.to_lowercase()),
                cand,
            )
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, cand)| cand.to_owned())
}

/// The key serde reports as `missing field `x``, if that is the error.
pub(crate) fn missing_field(message: &str) -> Option<&str> {
    between(message, "missing field `", "`")
}

/// Help for a missing required key: what it is for and which distributions read it.
pub(crate) fn missing_field_help(field: &str) -> String {
    let why = match field {
        "kubernetesVersion" => {
            "kubeadm needs it: it goes into ClusterConfiguration and picks the kubeadm config \
             API (v1beta3 below 1.31, v1beta4 from 1.31); rke2, k3s and canonical do not read \
             it, but every intent states the version its cluster runs"
        }
        "distribution" => {
            "every intent needs it: kubeadm, rke2, k3s or canonical decides which files netc writes"
        }
        "podCIDR" | "serviceCIDR" => {
            "every distribution needs it: it goes into the cluster configuration (kubeadm \
             networking, rke2/k3s cluster-cidr and service-cidr, canonical bootstrap) and the CNI"
        }
        "apiVersion" | "kind" => {
            "every intent starts with `apiVersion: netc/v1alpha1` and `kind: NetworkIntent`"
        }
        _ => "",
    };
    if why.is_empty() {
        format!("add `{field}`; see `netc schema` for the keys an intent takes")
    } else {
        format!("add `{field}`: {why}")
    }
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = s.split_once(start)?.1;
    Some(rest.split_once(end)?.0)
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn suggests_the_closest_field() {
        let m = "unknown field `podCIRD`, expected one of `podCIDR`, `serviceCIDR`, `dnsDomain`";
        assert_eq!(did_you_mean(m).as_deref(), Some("podCIDR"));
    }

    #[test]
    fn suggests_nothing_for_unrelated_names() {
        let m = "unknown field `zzz`, expected one of `podCIDR`, `serviceCIDR`";
        assert_eq!(did_you_mean(m), None);
    }

    #[test]
    fn suggests_variants() {
        let m = "unknown variant `flanel`, expected one of flannel, calico at line 16, column 11";
        assert_eq!(did_you_mean(m).as_deref(), Some("flannel"));
    }

    #[test]
    fn suggests_one_of_two_variants() {
        let m = "unknown variant `controlplane`, expected `control-plane` or `worker`";
        assert_eq!(did_you_mean(m).as_deref(), Some("control-plane"));
    }
}
