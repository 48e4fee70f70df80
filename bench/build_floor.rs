//! The floor of `netc build`: parse the intent, then serialize the same amount of YAML with
//! serde into the same number of files (what any generator of these files must at least do).
//!
//! usage: build-floor INTENT OUTDIR FILES BYTES

use std::io::Write;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, intent, out, files, bytes] = args.as_slice() else {
        eprintln!("usage: build-floor INTENT OUTDIR FILES BYTES");
        return std::process::ExitCode::from(2);
    };
    let (Ok(files), Ok(bytes)) = (files.parse::<usize>(), bytes.parse::<usize>()) else {
        eprintln!("FILES and BYTES are numbers");
        return std::process::ExitCode::from(2);
    };
    let text = std::fs::read_to_string(intent).unwrap_or_default();
    let src = netc::diagnostic::SourceFile::new(intent.clone(), text);
    let Ok(parsed) = netc::intent::parse(&src, netc::intent::Syntax::Yaml) else {
        eprintln!("{intent} does not parse");
        return std::process::ExitCode::from(1);
    };
    let per_file = bytes / files.max(1);
    let out = std::path::Path::new(out);
    let _ = std::fs::create_dir_all(out);
    for i in 0..files {
        // One node's YAML, repeated until the file is as large as build's average file.
        let node = &parsed.nodes[i % parsed.nodes.len().max(1)];
        let mut body = String::new();
        while body.len() < per_file {
            body.push_str(&serde_saphyr::to_string(node).unwrap_or_default());
        }
        let dir = out.join(format!("d{}", i % 1000));
        let _ = std::fs::create_dir_all(&dir);
        if let Ok(mut f) = std::fs::File::create(dir.join(format!("f{i}.yaml"))) {
            let _ = f.write_all(body.as_bytes());
        }
    }
    std::process::ExitCode::SUCCESS
}
