//! The benchmark's floor: read and parse an intent file, nothing else.

fn main() -> std::process::ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: parse-only FILE");
        return std::process::ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{path}: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let src = netc::diagnostic::SourceFile::new(path.clone(), text);
    match netc::intent::parse(&src, netc::intent::Syntax::from_path(&path)) {
        Ok(intent) => {
            println!("{} nodes", intent.nodes.len());
            std::process::ExitCode::SUCCESS
        }
        Err(d) => {
            eprintln!("{d}");
            std::process::ExitCode::from(1)
        }
    }
}
