//! Validates a catalog folder: `cargo run -p catalog --example check -- catalog/`.
//! Prints each error as `file:line:col: path: message` and exits 1, or a summary and exits 0.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: check DIR");
        return ExitCode::from(2);
    };
    if !dir.is_dir() {
        eprintln!("{}: not a folder", dir.display());
        return ExitCode::from(2);
    }
    match catalog::Catalog::load_dir(&dir) {
        Ok(c) => {
            let zero = c.items().iter().filter(|i| i.zero_material).count();
            println!(
                "ok: {} files, {} departments, {} life events, {} code lists, {} elements, {} materials, {} items ({} zero-material), {} bundles; digest {}",
                c.files().len(),
                c.departments().len(),
                c.life_events().len(),
                c.code_lists().len(),
                c.elements().len(),
                c.materials().len(),
                c.items().len(),
                zero,
                c.bundles().len(),
                c.digest()
            );
            ExitCode::SUCCESS
        }
        Err(errors) => {
            let prefix = dir.to_string_lossy().trim_end_matches('/').to_string();
            for e in &errors {
                println!("{prefix}/{e}");
            }
            eprintln!("{} error(s)", errors.len());
            ExitCode::FAILURE
        }
    }
}
