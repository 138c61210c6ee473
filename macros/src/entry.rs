//! `#[weft::main]` and `#[weft::test]`: an `async fn` turned into a plain one that runs its
//! body on a new weft runtime.

use proc_macro::{Delimiter, Span, TokenStream, TokenTree};

use crate::tokens::{error, is_ident, is_punct, is_thin_arrow, stream, template};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Main,
    Test,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Main => "main",
            Kind::Test => "test",
        }
    }
}

/// The attribute's options.
#[derive(Default)]
struct Options {
    start_paused: bool,
    /// `workers = N` (`#[weft::main]` only): thread-per-core, the body on every worker;
    /// `0` for `"auto"`.
    workers: Option<usize>,
    /// tokio's `crate = "path"`: the path to weft, when the macro cannot find it.
    krate: Option<String>,
}

/// The path to weft as the crate being compiled names it: `crate = ".."` if given, else the
/// name of the dependency on weft in its Cargo.toml (`tokio` after
/// `tokio = { package = "weft", .. }`), else `::weft`.
fn weft_path(options: &Options) -> String {
    if let Some(path) = &options.krate {
        return path.clone();
    }
    match proc_macro_crate::crate_name("weft") {
        Ok(proc_macro_crate::FoundCrate::Name(name)) => format!("::{name}"),
        // `Itself`: weft's own tests, examples and doctests, which see it as `weft`.
        Ok(proc_macro_crate::FoundCrate::Itself) | Err(_) => "::weft".to_owned(),
    }
}

/// The name the user calls weft by, for messages (`tokio` after the rename swap).
fn user_name(path: &str) -> &str {
    path.trim_start_matches("::")
}

pub(crate) fn expand(kind: Kind, attr: TokenStream, item: TokenStream) -> TokenStream {
    match try_expand(kind, attr, item.clone()) {
        Ok(out) => out,
        Err(err) if kind == Kind::Main => {
            // Keep the function, so that the only error is ours (not "`main` not found").
            let mut out = err;
            out.extend(item);
            out
        }
        // A test left as written would only add errors ("async functions cannot be used
        // for tests").
        Err(err) => err,
    }
}

fn try_expand(
    kind: Kind,
    attr: TokenStream,
    item: TokenStream,
) -> Result<TokenStream, TokenStream> {
    let options = parse_options(kind, attr)?;
    let weft = weft_path(&options);
    let name = user_name(&weft);
    let toks: Vec<TokenTree> = item.into_iter().collect();
    let Some(fn_at) = toks.iter().position(|t| is_ident(Some(t), "fn")) else {
        return Err(error(
            Span::call_site(),
            &format!("#[{name}::{}] goes on an `async fn`", kind.name()),
        ));
    };
    let (prefix, sig) = toks.split_at(fn_at);
    let Some(async_at) = prefix.iter().position(|t| is_ident(Some(t), "async")) else {
        return Err(error(
            sig[0].span(),
            "the `async` keyword is missing from the function declaration",
        ));
    };
    let body = match sig.last() {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => g.clone(),
        _ => return Err(error(sig[0].span(), "expected a function with a body")),
    };
    let sig = &sig[..sig.len() - 1];
    if kind == Kind::Test {
        check_no_test_attr(prefix, name)?;
    }
    let output = return_type(sig).unwrap_or_else(|| "()".parse().expect("`()` parses"));

    let mut out = TokenStream::new();
    if kind == Kind::Test {
        out.extend(template(
            "#[::core::prelude::v1::test]",
            Span::call_site(),
            &[],
        ));
    }
    out.extend(stream(&prefix[..async_at]));
    out.extend(stream(&prefix[async_at + 1..]));
    out.extend(stream(sig));
    if let Some(n) = options.workers {
        let paused = options.start_paused;
        // Every worker runs its own copy of the body, boxed as `dyn Future<Output = R>` for
        // `?`'s sake as below; `weft::workers::current()` tells them apart.
        let src = format!(
            "{{
                {weft}::workers::__main({n}, {paused}, move |_| -> ::core::pin::Pin<
                    ::std::boxed::Box<dyn ::core::future::Future<Output = $1>>,
                > {{
                    ::std::boxed::Box::pin(async move $0)
                }})
            }}"
        );
        out.extend(template(
            &src,
            Span::call_site(),
            &[TokenTree::Group(body).into(), output],
        ));
        return Ok(out);
    }
    let run = if options.start_paused {
        format!(
            "{weft}::Builder::new()
                .start_paused(true)
                .build()
                .expect(\"failed to build the weft runtime\")
                .block_on(__weft_body)"
        )
    } else {
        format!("{weft}::run(__weft_body)")
    };
    // The body becomes an async block pinned as `dyn Future<Output = R>`: the explicit
    // output type lets `?` in the body infer its error type from the function's signature.
    let src = format!(
        "{{
            let __weft_body = async move $0;
            let __weft_body = ::core::pin::pin!(__weft_body);
            let __weft_body: ::core::pin::Pin<
                &mut dyn ::core::future::Future<Output = $1>,
            > = __weft_body;
            {run}
        }}"
    );
    out.extend(template(
        &src,
        Span::call_site(),
        &[TokenTree::Group(body).into(), output],
    ));
    Ok(out)
}

/// Parses tokio's options: `flavor = "current_thread" | "local"`, `start_paused = bool`,
/// `crate = "path"`. `flavor = "multi_thread"` and `worker_threads` are refused with the
/// thread-per-core way to use more cores.
fn parse_options(kind: Kind, attr: TokenStream) -> Result<Options, TokenStream> {
    let toks: Vec<TokenTree> = attr.into_iter().collect();
    let mut options = Options::default();
    for option in toks.split(|t| is_punct(Some(t), ',')) {
        let (key, value) = match option {
            [] => continue,
            [TokenTree::Ident(key), eq, value] if is_punct(Some(eq), '=') => (key, value),
            [first, ..] => {
                return Err(error(
                    first.span(),
                    &format!(
                        "expected `key = value`: #[{}] takes `flavor = \"current_thread\"`, \
                         `start_paused = true` and `crate = \"path\"`",
                        kind.name()
                    ),
                ))
            }
        };
        match key.to_string().as_str() {
            "start_paused" => {
                options.start_paused = match value.to_string().as_str() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(error(value.span(), "expected `true` or `false`")),
                };
            }
            "flavor" => match string_value(value).as_deref() {
                // Every weft task is local: tokio's LocalSet flavour is the plain runtime.
                Some("current_thread" | "local") => {}
                Some("multi_thread") => return Err(error(value.span(), MULTI_THREAD)),
                _ => {
                    return Err(error(
                        value.span(),
                        "unknown flavor: expected \"current_thread\" or \"local\"",
                    ))
                }
            },
            "worker_threads" => return Err(error(key.span(), MULTI_THREAD)),
            "workers" if kind == Kind::Main => {
                options.workers = match string_value(value).as_deref() {
                    Some("auto") => Some(0),
                    Some(_) => None,
                    None => value.to_string().parse().ok(),
                };
                if options.workers.is_none() {
                    return Err(error(
                        value.span(),
                        "expected a number of workers, or \"auto\" (one per core)",
                    ));
                }
            }
            "crate" => match string_value(value) {
                Some(path) if path.parse::<TokenStream>().is_ok() && !path.is_empty() => {
                    options.krate = Some(path);
                }
                _ => {
                    return Err(error(
                        value.span(),
                        "expected a path in a string: `crate = \"tokio\"`",
                    ))
                }
            },
            other => {
                return Err(error(
                    key.span(),
                    &format!(
                    "unknown option `{other}`: #[{}] takes `flavor`, `start_paused`, `workers` \
                     (main) and `crate`",
                    kind.name()
                ),
                ))
            }
        }
    }
    Ok(options)
}

/// Why there is no multi-thread flavour, and what to use instead.
const MULTI_THREAD: &str = "weft has no multi-thread (work-stealing) runtime: its tasks stay on \
     the thread that spawned them. Use `flavor = \"current_thread\"`, and to use more cores run one \
     runtime per core with `weft::Builder::workers(n)` (thread-per-core).";

/// The text of a string literal token, unescaped only as far as plain names and paths need.
fn string_value(tt: &TokenTree) -> Option<String> {
    let TokenTree::Literal(lit) = tt else {
        return None;
    };
    let s = lit.to_string();
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    (!inner.contains('\\')).then(|| inner.to_owned())
}

/// Rejects a `#[test]` next to `#[weft::test]` (it would declare the test twice).
fn check_no_test_attr(prefix: &[TokenTree], name: &str) -> Result<(), TokenStream> {
    for pair in prefix.windows(2) {
        let [hash, TokenTree::Group(g)] = pair else {
            continue;
        };
        let path = g.stream().to_string().replace(' ', "");
        if is_punct(Some(hash), '#')
            && g.delimiter() == Delimiter::Bracket
            && (path == "test" || path.ends_with("::test"))
        {
            return Err(error(
                g.span(),
                &format!(
                    "second test attribute: #[{name}::test] already declares the test, remove \
                     this one"
                ),
            ));
        }
    }
    Ok(())
}

/// The tokens after `->` in `fn name<..>(..) -> R where ..`, or `None` for `()`.
fn return_type(sig: &[TokenTree]) -> Option<TokenStream> {
    // Skip the generics (`<F: Fn() -> u8>` holds an arrow of its own) to the arguments.
    let mut angle = 0usize;
    let mut i = 0;
    let args_at = loop {
        let t = sig.get(i)?;
        if is_punct(Some(t), '<') {
            angle += 1;
        } else if is_punct(Some(t), '>') && !(i >= 1 && is_thin_arrow(sig, i - 1)) {
            angle = angle.saturating_sub(1);
        } else if angle == 0
            && matches!(t, TokenTree::Group(g) if g.delimiter() == Delimiter::Parenthesis)
        {
            break i;
        }
        i += 1;
    };
    if !is_thin_arrow(sig, args_at + 1) {
        return None;
    }
    let start = args_at + 3;
    let mut end = start;
    angle = 0;
    while end < sig.len() {
        let t = &sig[end];
        if is_punct(Some(t), '<') {
            angle += 1;
        } else if is_punct(Some(t), '>') && !is_thin_arrow(sig, end - 1) {
            angle = angle.saturating_sub(1);
        } else if angle == 0 && is_ident(Some(t), "where") {
            break;
        }
        end += 1;
    }
    Some(stream(&sig[start..end]))
}
