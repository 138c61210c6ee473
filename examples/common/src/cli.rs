//! Command-line options for the example servers, written by hand: every limit a server has
//! is an option with a safe default, and `--help` lists them all with their defaults.
//!
//! Each option is read where its default is written, which also registers it for `--help`;
//! [`Args::finish`] then answers `--help` and refuses anything left unread:
//!
//! ```
//! use std::time::Duration;
//! use examples_common::cli::Args;
//!
//! let mut args = Args::new("demo", "A demo server.", ["9000", "--head-timeout=2.5"]);
//! let port = args.port(8080);
//! let max = args.value("--max-connections", 1024usize, "connections served at once");
//! let head = args.seconds("--head-timeout", Duration::from_secs(10), "to send a request head");
//! let body = args.bytes("--max-body", 1 << 20, "the largest request body");
//! args.finish().unwrap();
//! assert_eq!((port, max, body), (9000, 1024, 1 << 20));
//! assert_eq!(head, Duration::from_millis(2500));
//! ```
//!
//! Options are `--name VALUE` or `--name=VALUE`; sizes take `k`, `M` and `G` suffixes
//! (powers of 1024); durations are seconds, fractions allowed, or end in `ms`.

use std::fmt::Display;
use std::str::FromStr;
use std::time::Duration;

/// Why [`Args::finish`] did not return the go-ahead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// `--help` was given: print this on stdout and exit 0.
    Help(String),
    /// The arguments are wrong: print this on stderr and exit 2.
    Usage(String),
}

/// The command line being read.
#[derive(Debug)]
pub struct Args {
    program: &'static str,
    about: &'static str,
    /// The arguments not read yet.
    left: Vec<String>,
    /// One `--help` line per option read so far.
    help: Vec<(String, String)>,
    /// Values that did not parse.
    errors: Vec<String>,
}

impl Args {
    /// The process's own arguments.
    pub fn from_env(program: &'static str, about: &'static str) -> Args {
        Args::new(program, about, std::env::args().skip(1))
    }

    /// `args` (without the program name).
    pub fn new<I, S>(program: &'static str, about: &'static str, args: I) -> Args
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Args {
            program,
            about,
            left: args.into_iter().map(Into::into).collect(),
            help: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// The port to listen on: `--port N`, or a first argument that is not an option.
    pub fn port(&mut self, default: u16) -> u16 {
        self.help_line(
            "[PORT] | --port N",
            "the port on 127.0.0.1; 0 picks a free one",
            default,
        );
        let text = self.take("--port").or_else(|| {
            let first = self.left.first()?;
            (!first.starts_with('-')).then(|| self.left.remove(0))
        });
        match text {
            Some(text) => self.parse("--port", &text, default),
            None => default,
        }
    }

    /// The value of option `name` (e.g. `"--max-connections"`), or `default`.
    pub fn value<T: FromStr + Display>(&mut self, name: &'static str, default: T, help: &str) -> T {
        self.help_line(&format!("{name} VALUE"), help, &default);
        match self.take(name) {
            Some(text) => self.parse(name, &text, default),
            None => default,
        }
    }

    /// A duration option: seconds (`10`, `0.5`) or milliseconds (`500ms`).
    pub fn seconds(&mut self, name: &'static str, default: Duration, help: &str) -> Duration {
        self.help_line(&format!("{name} SECS"), help, format!("{default:?}"));
        let Some(text) = self.take(name) else {
            return default;
        };
        let parsed = match text.strip_suffix("ms") {
            Some(ms) => ms.parse::<u64>().ok().map(Duration::from_millis),
            None => text
                .strip_suffix('s')
                .unwrap_or(&text)
                .parse::<f64>()
                .ok()
                .and_then(|s| Duration::try_from_secs_f64(s).ok()),
        };
        parsed.unwrap_or_else(|| {
            self.errors
                .push(format!("{name}: {text:?} is not a duration"));
            default
        })
    }

    /// A size option in bytes, with an optional `k`, `M` or `G` suffix (powers of 1024).
    pub fn bytes(&mut self, name: &'static str, default: u64, help: &str) -> u64 {
        self.help_line(&format!("{name} BYTES"), help, human_bytes(default));
        let Some(text) = self.take(name) else {
            return default;
        };
        let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
            Some((i, _)) => text.split_at(i),
            None => (text.as_str(), ""),
        };
        let shift = match unit.trim_end_matches("iB").trim_end_matches('B') {
            "" => Some(0),
            "k" | "K" => Some(10),
            "m" | "M" => Some(20),
            "g" | "G" => Some(30),
            _ => None,
        };
        let n = digits.parse::<u64>().ok();
        match (n, shift) {
            (Some(n), Some(shift)) if n.checked_shl(shift).is_some_and(|v| v >> shift == n) => {
                n << shift
            }
            _ => {
                self.errors.push(format!("{name}: {text:?} is not a size"));
                default
            }
        }
    }

    /// Ends the reading: `Ok` to go on, or what to print for `--help` or a wrong command
    /// line.
    ///
    /// # Errors
    ///
    /// [`Stop::Help`] for `-h`/`--help`, [`Stop::Usage`] for a value that did not parse or an
    /// argument no option took.
    pub fn finish(mut self) -> Result<(), Stop> {
        self.help_line("-h, --help", "print this and exit", "");
        if self.left.iter().any(|a| a == "-h" || a == "--help") {
            return Err(Stop::Help(self.usage()));
        }
        let mut errors = std::mem::take(&mut self.errors);
        errors.extend(self.left.iter().map(|a| format!("unknown argument {a:?}")));
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Stop::Usage(format!(
                "{}: {}\ntry `{} --help`",
                self.program,
                errors.join("; "),
                self.program
            )))
        }
    }

    /// [`finish`](Self::finish) for a `main`: prints help or errors and exits on them.
    pub fn finish_or_exit(self) {
        match self.finish() {
            Ok(()) => {}
            Err(Stop::Help(text)) => {
                println!("{text}");
                std::process::exit(0);
            }
            Err(Stop::Usage(text)) => {
                eprintln!("{text}");
                std::process::exit(2);
            }
        }
    }

    /// Removes `name`'s occurrences (`name VALUE` or `name=VALUE`); returns the last value.
    fn take(&mut self, name: &str) -> Option<String> {
        let mut value = None;
        let mut i = 0;
        while i < self.left.len() {
            if self.left[i] == name {
                self.left.remove(i);
                if i < self.left.len() {
                    value = Some(self.left.remove(i));
                } else {
                    self.errors.push(format!("{name} needs a value"));
                }
            } else if let Some(v) = self.left[i]
                .strip_prefix(name)
                .and_then(|rest| rest.strip_prefix('='))
            {
                value = Some(v.to_string());
                self.left.remove(i);
            } else {
                i += 1;
            }
        }
        value
    }

    fn parse<T: FromStr>(&mut self, name: &str, text: &str, default: T) -> T {
        text.parse().unwrap_or_else(|_| {
            self.errors.push(format!("{name}: {text:?} is not valid"));
            default
        })
    }

    fn help_line(&mut self, synopsis: &str, help: &str, default: impl Display) {
        let default = default.to_string();
        let text = if default.is_empty() {
            help.to_string()
        } else {
            format!("{help} (default {default})")
        };
        self.help.push((synopsis.to_string(), text));
    }

    fn usage(&self) -> String {
        let width = self.help.iter().map(|(s, _)| s.len()).max().unwrap_or(0);
        let mut text = format!(
            "{}: {}\n\nusage: {} [OPTIONS]\n\n",
            self.program, self.about, self.program
        );
        for (synopsis, help) in &self.help {
            text.push_str(&format!("  {synopsis:width$}  {help}\n"));
        }
        text
    }
}

/// `n` with the largest suffix that divides it: `1048576` is `1M`.
fn human_bytes(n: u64) -> String {
    for (shift, unit) in [(30, "G"), (20, "M"), (10, "k")] {
        if n != 0 && n % (1 << shift) == 0 {
            return format!("{}{unit}", n >> shift);
        }
    }
    n.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_defaults_and_forms() {
        let mut a = Args::new("t", "", ["--max=5", "--size", "3M", "--wait", "250ms"]);
        assert_eq!(a.port(80), 80);
        assert_eq!(a.value("--max", 1u32, ""), 5);
        assert_eq!(a.value("--other", 7u32, ""), 7);
        assert_eq!(a.bytes("--size", 1, ""), 3 << 20);
        assert_eq!(
            a.seconds("--wait", Duration::ZERO, ""),
            Duration::from_millis(250)
        );
        assert_eq!(a.finish(), Ok(()));
    }

    #[test]
    fn help_lists_every_option_with_its_default() {
        let mut a = Args::new("t", "Test.", ["--help"]);
        a.port(80);
        a.bytes("--max-body", 1 << 20, "the largest body");
        a.seconds("--idle", Duration::from_secs(30), "idle");
        let Err(Stop::Help(text)) = a.finish() else {
            panic!("no help");
        };
        assert!(text.contains("[PORT] | --port N"), "{text}");
        assert!(text.contains("the largest body (default 1M)"), "{text}");
        assert!(text.contains("idle (default 30s)"), "{text}");
    }

    #[test]
    fn mistakes_are_reported() {
        let mut a = Args::new("t", "", ["--max", "x", "--bogus", "--size=1T", "--wait"]);
        a.value("--max", 1u32, "");
        a.bytes("--size", 1, "");
        a.seconds("--wait", Duration::ZERO, "");
        let Err(Stop::Usage(text)) = a.finish() else {
            panic!("accepted");
        };
        for part in [
            "--max: \"x\"",
            "--bogus",
            "--size: \"1T\"",
            "--wait needs a value",
        ] {
            assert!(text.contains(part), "{part} in {text}");
        }
        let mut a = Args::new("t", "", ["--size=99999999999999G"]);
        a.bytes("--size", 1, "");
        assert!(a.finish().is_err());
    }
}
