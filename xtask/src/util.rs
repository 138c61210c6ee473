//! Small helpers shared by the tasks: paths, running commands, option parsing.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root (the parent of this crate's directory).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// The cargo that runs us (`$CARGO`), or `cargo` from `PATH`.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Runs `cmd` to completion, inheriting stdout and stderr; an error names the command.
pub fn run(cmd: &mut Command) -> Result<(), String> {
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed ({status})"))
    }
}

/// Runs `cmd` and returns its stdout, trimmed (`None` if it cannot run or fails).
pub fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The short commit of the checkout in `dir`, with `+dirty` when its tracked files changed.
pub fn commit(dir: &Path) -> String {
    let git = |args: &[&str]| output(Command::new("git").arg("-C").arg(dir).args(args));
    let Some(hash) = git(&["rev-parse", "--short=7", "HEAD"]) else {
        return "unknown".to_string();
    };
    match git(&["status", "--porcelain", "--untracked-files=no"]) {
        Some(s) if !s.is_empty() => format!("{hash}+dirty"),
        _ => hash,
    }
}

/// Command-line options: `--flag`, `--key value`, and the rest as positional arguments.
pub struct Args {
    rest: Vec<String>,
}

impl Args {
    pub fn new(args: &[String]) -> Args {
        Args {
            rest: args.to_vec(),
        }
    }

    /// Removes `--name` and says whether it was there.
    pub fn flag(&mut self, name: &str) -> bool {
        let before = self.rest.len();
        self.rest.retain(|a| a != name);
        self.rest.len() != before
    }

    /// Removes `--name VALUE` and returns the value.
    pub fn value(&mut self, name: &str) -> Result<Option<String>, String> {
        let Some(i) = self.rest.iter().position(|a| a == name) else {
            return Ok(None);
        };
        if i + 1 >= self.rest.len() {
            return Err(format!("{name} needs a value"));
        }
        let v = self.rest.remove(i + 1);
        self.rest.remove(i);
        Ok(Some(v))
    }

    /// Removes `--name N` and parses it.
    pub fn number<T: std::str::FromStr>(&mut self, name: &str) -> Result<Option<T>, String> {
        match self.value(name)? {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| format!("{name}: {v:?} is not a number")),
        }
    }

    /// What is left: positional arguments. An unknown `--option` is an error.
    pub fn positional(self) -> Result<Vec<String>, String> {
        match self.rest.iter().find(|a| a.starts_with("--")) {
            Some(a) => Err(format!("unknown option {a}; `cargo xtask help` lists them")),
            None => Ok(self.rest),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Args {
        Args::new(&s.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn options_are_taken_out_and_the_rest_is_positional() {
        let mut a = args("spawn --save --jobs 3 yield");
        assert!(a.flag("--save"));
        assert!(!a.flag("--verify"));
        assert_eq!(a.number::<usize>("--jobs").unwrap(), Some(3));
        assert_eq!(a.value("--checkout").unwrap(), None);
        assert_eq!(a.positional().unwrap(), ["spawn", "yield"]);
    }

    #[test]
    fn unknown_options_and_missing_values_are_errors() {
        assert!(args("--nope").positional().is_err());
        assert!(args("--jobs").number::<usize>("--jobs").is_err());
        assert!(args("--jobs x").number::<usize>("--jobs").is_err());
    }
}
