//! The pre-commit hooks this repository exports (`.pre-commit-hooks.yaml`), run by the real
//! `pre-commit` client (PyPI; scripts/install-test-deps.sh installs it) in a throwaway git
//! repository laid out as the README's pre-commit section says. Offline: the hooks are the
//! exported definitions with the README's `files`/`exclude`/`args`, as a `repo: local` with
//! `language: system` and the netc under test first on PATH. Also: `netc check` skips files
//! that are no intent (another `kind`, netc's generated header) with a note.

#[path = "build_common/mod.rs"]
mod build_common;

use std::path::Path;
use std::process::{Command, Output};

use build_common::{have, netc, repo};
use serde_json::{Value, json};

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn check_skips_files_that_are_no_intent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let built = d.join("out");
    let st = netc()
        .args(["build", "-q", "examples/kubeadm-flannel.yaml", "-o"])
        .arg(&built)
        .current_dir(repo())
        .status()
        .expect("build");
    assert!(st.success());
    std::fs::write(
        d.join("cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\napiVersion: v1\nkind: Secret\n",
    )
    .expect("write");
    std::fs::write(
        d.join("nokind.yaml"),
        "apiVersion: v1\nmetadata: {name: x}\n",
    )
    .expect("write");
    std::fs::write(
        d.join("typo.yaml"),
        "apiVersion: netc/v1alpha1\nkind: NetworkIntnet\n",
    )
    .expect("write");
    std::fs::write(
        d.join("broken-intent.yaml"),
        "apiVersion: netc/v1alpha1\nkind: NetworkIntent\nmetadata: {name: x}\nclutser: {}\n",
    )
    .expect("write");

    // Every generated YAML file (kubeadm, policies, flannel, cloud-init) and a foreign manifest
    // pass, each with a note; the intent itself is still checked.
    let mut cmd = netc();
    cmd.arg("check")
        .arg(repo().join("examples/kubeadm-flannel.yaml"));
    let mut generated = 0;
    for (rel, _) in build_common::read_tree(&built) {
        if rel.ends_with(".yaml") {
            cmd.arg(built.join(&rel));
            generated += 1;
        }
    }
    assert!(generated >= 5, "{generated} generated YAML files");
    let out = cmd.arg(d.join("cm.yaml")).output().expect("check");
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(
        all.contains(
            "cm.yaml: it holds `kind: ConfigMap`, `kind: Secret`, not `kind: NetworkIntent`"
        ),
        "{all}"
    );
    assert!(
        all.contains("init.yaml: it is a file netc generated"),
        "{all}"
    );
    assert!(
        all.contains(&format!(
            "checked 1 file(s) ({} skipped: not intents): 0 error(s)",
            generated + 1
        )),
        "{all}"
    );
    // -q: no notes.
    let out = netc()
        .args(["check", "-q"])
        .arg(d.join("cm.yaml"))
        .output()
        .expect("check");
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out).is_empty(), "{}", text(&out));

    // Without a kind, with kind NetworkIntent or netc's apiVersion, a broken file is still a
    // broken intent.
    for bad in ["nokind.yaml", "broken-intent.yaml", "typo.yaml"] {
        let out = netc()
            .arg("check")
            .arg(d.join(bad))
            .output()
            .expect("check");
        assert_eq!(out.status.code(), Some(1), "{bad}: {}", text(&out));
        assert!(text(&out).contains("netc::parse"), "{}", text(&out));
    }
}

/// The README's pre-commit configuration (its fenced `yaml` block under `### pre-commit`).
fn readme_precommit_config() -> Value {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README");
    let section = readme
        .split("### pre-commit")
        .nth(1)
        .expect("a pre-commit section");
    let block = section
        .split("```yaml\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a yaml block in the pre-commit section");
    serde_saphyr::from_str(block).expect("the README's pre-commit config is YAML")
}

/// The README's config as a `repo: local` whose hooks are the exported definitions
/// (`.pre-commit-hooks.yaml`) with the README's keys over them, run as `language: system`.
fn local_config() -> Value {
    let exported: Vec<Value> = serde_saphyr::from_str(
        &std::fs::read_to_string(repo().join(".pre-commit-hooks.yaml")).expect("hooks file"),
    )
    .expect("hooks YAML");
    let config = readme_precommit_config();
    let mut hooks = Vec::new();
    for repo_entry in config["repos"].as_array().expect("repos") {
        assert_eq!(
            repo_entry["rev"], "v0.1.0",
            "the README points rev at the release tag"
        );
        for hook in repo_entry["hooks"].as_array().expect("hooks") {
            let id = &hook["id"];
            let mut def = exported
                .iter()
                .find(|h| h["id"] == *id)
                .unwrap_or_else(|| panic!("README hook {id} is exported"))
                .clone();
            assert_eq!(
                def["language"], "rust",
                "exported hooks build netc from source"
            );
            for (k, v) in hook.as_object().expect("hook map") {
                def[k] = v.clone();
            }
            def["language"] = json!("system");
            hooks.push(def);
        }
    }
    json!({"repos": [{"repo": "local", "hooks": hooks}]})
}

fn git(dir: &Path, args: &[&str]) -> Output {
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .output()
        .expect("run git")
}

#[test]
fn precommit_hooks_refuse_broken_intents_and_stale_output() {
    assert!(
        have("pre-commit") && have("git"),
        "pre-commit (PyPI) and git are not installed: run scripts/install-test-deps.sh"
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("site");
    let net = dir.join("network");
    std::fs::create_dir_all(net.join("manifests")).expect("mkdir");
    assert!(git(tmp.path(), &["init", "-q", "site"]).status.success());
    let intent = std::fs::read_to_string(repo().join("examples/k3s-flannel.yaml")).expect("read");
    std::fs::write(net.join("site.yaml"), &intent).expect("write");
    // A manifest of the user's own beside the intent: matched by `files`, skipped by netc.
    std::fs::write(
        net.join("manifests/ingress.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: ingress}\n",
    )
    .expect("write");
    let config = serde_json::to_string_pretty(&local_config()).expect("json");
    std::fs::write(dir.join(".pre-commit-config.yaml"), config).expect("write config");

    let bin_dir = Path::new(env!("CARGO_BIN_EXE_netc"))
        .parent()
        .expect("bin dir")
        .to_owned();
    let path = std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .expect("PATH");
    let home = tmp.path().join("pre-commit-home");
    let run = |program: &str, args: &[&str]| -> Output {
        Command::new(program)
            .args(args)
            .current_dir(&dir)
            .env("PATH", &path)
            .env("PRE_COMMIT_HOME", &home)
            .env("NO_COLOR", "1")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
            .output()
            .expect("run")
    };
    let out = run("pre-commit", &["install"]);
    assert!(out.status.success(), "{}", text(&out));
    let head = || {
        String::from_utf8_lossy(&git(&dir, &["rev-parse", "-q", "--verify", "HEAD"]).stdout)
            .trim()
            .to_owned()
    };

    // 1. The intent, its build output and the manifest: both hooks pass, the commit is made.
    let out = run(
        "netc",
        &["build", "-q", "network/site.yaml", "-o", "network/out"],
    );
    assert!(out.status.success(), "{}", text(&out));
    run("git", &["add", "-A"]);
    let out = run("git", &["commit", "-q", "-m", "network"]);
    assert!(
        out.status.success(),
        "a good commit is refused:\n{}",
        text(&out)
    );
    let first = head();
    assert!(!first.is_empty());

    // 2. A broken intent: netc-check fails, nothing is committed.
    let broken = intent.replace("podCIDR: 10.42.0.0/16", "podCIDR: 10.42.0.1/16");
    assert_ne!(broken, intent, "the example sets podCIDR 10.42.0.0/16");
    std::fs::write(net.join("site.yaml"), &broken).expect("write");
    run("git", &["add", "-A"]);
    let out = run("git", &["commit", "-q", "-m", "broken"]);
    let all = text(&out);
    assert!(
        !out.status.success(),
        "a broken intent was committed:\n{all}"
    );
    assert!(
        all.contains("netc check") && all.contains("Failed"),
        "{all}"
    );
    assert!(all.contains("netc::cidr::invalid"), "{all}");
    assert_eq!(head(), first);

    // 3. A valid change without rebuilding: netc-build-check fails with the diff.
    let changed = intent.replace("podCIDR: 10.42.0.0/16", "podCIDR: 10.52.0.0/16");
    std::fs::write(net.join("site.yaml"), &changed).expect("write");
    run("git", &["add", "-A"]);
    let out = run("git", &["commit", "-q", "-m", "stale"]);
    let all = text(&out);
    assert!(!out.status.success(), "stale output was committed:\n{all}");
    assert!(
        all.contains("netc build --check") && all.contains("10.52.0.0/16"),
        "{all}"
    );
    assert_eq!(head(), first);

    // 4. Rebuilt: the commit goes through.
    let out = run(
        "netc",
        &["build", "-q", "network/site.yaml", "-o", "network/out"],
    );
    assert!(out.status.success(), "{}", text(&out));
    run("git", &["add", "-A"]);
    let out = run("git", &["commit", "-q", "-m", "rebuilt"]);
    assert!(
        out.status.success(),
        "the rebuilt commit is refused:\n{}",
        text(&out)
    );
    assert_ne!(head(), first);
}
