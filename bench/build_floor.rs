//! The floor of `netc build`: parse the intent, then serialize the same amount of YAML with
//! serde into the same files (same relative paths and sizes as a real build wrote), which is
//! what any generator of these files must at least do.
//!
//! usage: build-floor INTENT OUTDIR LISTING    (LISTING: one `SIZE PATH` line per file)

use std::io::Write;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, intent, out, listing] = args.as_slice() else {
        eprintln!("usage: build-floor INTENT OUTDIR LISTING");
        return std::process::ExitCode::from(2);
    };
    let listing = std::fs::read_to_string(listing).unwrap_or_default();
    let files: Vec<(usize, &str)> = listing
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter_map(|(size, path)| Some((size.parse().ok()?, path)))
        .collect();
    let text = std::fs::read_to_string(intent).unwrap_or_default();
    let src = netc::diagnostic::SourceFile::new(intent.clone(), text);
    let Ok(parsed) = netc::intent::parse(&src, netc::intent::Syntax::Yaml) else {
        eprintln!("{intent} does not parse");
        return std::process::ExitCode::from(1);
    };
    if parsed.nodes.is_empty() {
        return std::process::ExitCode::SUCCESS;
    }
    let out = std::path::Path::new(out);
    for (i, (size, path)) in files.iter().enumerate() {
        // One node's YAML, repeated until the file is as large as build's file of that path.
        let node = &parsed.nodes[i % parsed.nodes.len()];
        let mut body = String::new();
        while body.len() < *size {
            body.push_str(&serde_saphyr::to_string(node).unwrap_or_default());
        }
        let path = out.join(path);
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Ok(mut f) = std::fs::File::create(&path) {
            let _ = f.write_all(body.as_bytes());
        }
    }
    std::process::ExitCode::SUCCESS
}
