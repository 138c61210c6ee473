//! `select!`: tokio's syntax, expanded to one `poll_fn` over futures pinned on the stack.
//!
//! ```text
//! select! {
//!     biased;                                  // optional: poll in order, not randomly
//!     <pat> = <future> [, if <cond>] => <handler>[,]
//!     ...
//!     else => <expr>[,]                        // optional: runs when all are disabled
//! }
//! ```

use proc_macro::{Delimiter, Span, TokenStream, TokenTree};

use crate::tokens::{
    error, find_comma, first_span, is_fat_arrow, is_ident, is_lone_eq, is_punct, stream, template,
};

/// Branches are tracked in a `u64` bit mask.
const MAX_BRANCHES: usize = 64;

struct Branch {
    pat: Vec<TokenTree>,
    fut: Vec<TokenTree>,
    cond: Option<Vec<TokenTree>>,
    handler: TokenStream,
}

struct Select {
    /// `$crate` of `weft::select!`.
    krate: TokenTree,
    biased: bool,
    branches: Vec<Branch>,
    otherwise: Option<TokenStream>,
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    match parse(input) {
        Ok(select) => generate(select),
        Err(err) => err,
    }
}

fn parse(input: TokenStream) -> Result<Select, TokenStream> {
    let toks: Vec<TokenTree> = input.into_iter().collect();
    // `weft::select!` (a `macro_rules!`) passes its `$crate` first, so that the expansion
    // names weft as the user's crate does (`tokio` after the rename swap).
    let krate = match (toks.first(), toks.get(1)) {
        (Some(k @ TokenTree::Ident(_)), semi) if is_punct(semi, ';') => k.clone(),
        _ => {
            return Err(error(
                Span::call_site(),
                "use select! through `weft::select!`, which passes it weft's path",
            ))
        }
    };
    let mut i = 2;
    let biased = is_ident(toks.get(i), "biased") && is_punct(toks.get(i + 1), ';');
    if biased {
        i += 2;
    }
    let mut branches = Vec::new();
    let mut otherwise = None;
    while i < toks.len() {
        if is_ident(toks.get(i), "else") && is_fat_arrow(&toks, i + 1) {
            if otherwise.is_some() {
                return Err(error(
                    toks[i].span(),
                    "select! takes one `else` branch at most",
                ));
            }
            let arrow = toks[i + 1].span();
            i += 3;
            otherwise = Some(parse_handler(&toks, &mut i, arrow)?);
            continue;
        }
        branches.push(parse_branch(&toks, &mut i)?);
    }
    if branches.is_empty() && otherwise.is_none() {
        return Err(error(
            Span::call_site(),
            "select! needs at least one branch: `<pattern> = <future> => <handler>`",
        ));
    }
    if branches.len() > MAX_BRANCHES {
        return Err(error(
            Span::call_site(),
            "select! takes at most 64 branches; nest two select! or use weft::as_completed",
        ));
    }
    Ok(Select {
        krate,
        biased,
        branches,
        otherwise,
    })
}

/// `<pat> = <future> [, if <cond>] => <handler>[,]`, from `toks[*i]`.
fn parse_branch(toks: &[TokenTree], i: &mut usize) -> Result<Branch, TokenStream> {
    let start = *i;
    while !is_lone_eq(toks, *i) {
        if *i >= toks.len() || is_fat_arrow(toks, *i) {
            return Err(error(
                first_span(&toks[start..], Span::call_site()),
                "expected `<pattern> = <future> => <handler>`: no `=` after the pattern",
            ));
        }
        *i += 1;
    }
    let pat = toks[start..*i].to_vec();
    if pat.is_empty() {
        return Err(error(toks[*i].span(), "expected a pattern before `=`"));
    }
    let eq_span = toks[*i].span();
    *i += 1;

    let start = *i;
    let ends_future = |i: usize| {
        is_fat_arrow(toks, i) || (is_punct(toks.get(i), ',') && is_ident(toks.get(i + 1), "if"))
    };
    while !ends_future(*i) {
        if *i >= toks.len() {
            return Err(error(eq_span, "expected `=> <handler>` after the future"));
        }
        *i += 1;
    }
    let fut = toks[start..*i].to_vec();
    if fut.is_empty() {
        return Err(error(eq_span, "expected a future after `=`"));
    }

    let mut cond = None;
    if is_punct(toks.get(*i), ',') {
        let if_span = toks[*i + 1].span();
        *i += 2;
        let start = *i;
        while !is_fat_arrow(toks, *i) {
            if *i >= toks.len() {
                return Err(error(
                    if_span,
                    "expected `=> <handler>` after the condition",
                ));
            }
            *i += 1;
        }
        if start == *i {
            return Err(error(if_span, "expected a condition after `if`"));
        }
        cond = Some(toks[start..*i].to_vec());
    }
    let arrow_span = toks[*i].span();
    *i += 2;
    let handler = parse_handler(toks, i, arrow_span)?;
    Ok(Branch {
        pat,
        fut,
        cond,
        handler,
    })
}

/// A `{ block }` (comma optional; as in tokio, the block is the whole handler) or an
/// expression up to the next top-level comma.
fn parse_handler(
    toks: &[TokenTree],
    i: &mut usize,
    arrow: Span,
) -> Result<TokenStream, TokenStream> {
    if let Some(TokenTree::Group(g)) = toks.get(*i) {
        if g.delimiter() == Delimiter::Brace {
            *i += 1;
            if is_punct(toks.get(*i), ',') {
                *i += 1;
            }
            return Ok(TokenTree::Group(g.clone()).into());
        }
    }
    let end = find_comma(toks, *i);
    if end == *i {
        return Err(error(arrow, "expected an expression after `=>`"));
    }
    let expr = stream(&toks[*i..end]);
    *i = (end + 1).min(toks.len());
    Ok(template("{ $0 }", Span::mixed_site(), &[expr]))
}

/// The pattern for the "does it match?" test, which looks at `&output`: `ref` and `mut`
/// bindings would not compile there, and are irrelevant to the test.
fn clean_pattern(ts: TokenStream) -> TokenStream {
    let mut out: Vec<TokenTree> = Vec::new();
    for tt in ts {
        match tt {
            TokenTree::Ident(ref id) if id.to_string() == "ref" => {}
            TokenTree::Ident(ref id) if id.to_string() == "mut" && !is_punct(out.last(), '&') => {}
            TokenTree::Group(g) => {
                let mut group = proc_macro::Group::new(g.delimiter(), clean_pattern(g.stream()));
                group.set_span(g.span());
                out.push(TokenTree::Group(group));
            }
            other => out.push(other),
        }
    }
    out.into_iter().collect()
}

fn generate(select: Select) -> TokenStream {
    let n = select.branches.len();
    let otherwise = select.otherwise.unwrap_or_else(|| {
        template(
            "::core::panic!(\"all branches are disabled and there is no else branch\")",
            Span::mixed_site(),
            &[],
        )
    });
    if n == 0 {
        return template("{ $0 }", Span::mixed_site(), &[otherwise]);
    }

    // `args`: the user's tokens, spliced in at `$k` and left with their own spans.
    let mut args: Vec<TokenStream> = vec![otherwise, TokenStream::from(select.krate)];
    let mut arg = |ts: TokenStream| {
        args.push(ts);
        args.len() - 1
    };
    // The disabled-branch mask: the smallest integer that has a bit per branch (it lives in
    // the future that awaits `select!`, so its size counts).
    let mask = match n {
        0..=8 => "u8",
        9..=16 => "u16",
        17..=32 => "u32",
        _ => "u64",
    };
    let type_params: Vec<String> = (0..n).map(|b| format!("__WeftT{b}")).collect();
    let variants: Vec<String> = (0..n).map(|b| format!("_{b}(__WeftT{b}),")).collect();
    let mut conds = String::new();
    let mut futs = String::new();
    let mut into_futs = String::new();
    let mut poll_arms = String::new();
    let mut out_arms = String::new();
    for (b, branch) in select.branches.into_iter().enumerate() {
        if let Some(cond) = branch.cond {
            let c = arg(stream(&cond));
            conds += &format!("if !(${c}) {{ __weft_disabled |= 1 << {b}; }}\n");
        }
        let f = arg(stream(&branch.fut));
        // The futures as written go in a tuple first: a temporary borrowed there
        // (`&mut ready(())`) lives to the end of the block, as in a `let`.
        futs += &format!("${f},\n");
        into_futs += &format!("::core::future::IntoFuture::into_future(__weft_raw.{b}),\n");
        let check = arg(clean_pattern(stream(&branch.pat)));
        poll_arms += &format!(
            "{b} => {{
                if *__weft_disabled & (1 << {b}) != 0 {{
                    continue;
                }}
                // SAFETY: the future lives in `__weft_futs`, a local of the async context
                // that awaits this `select!`, reachable only through this `&mut`: it is not
                // moved again before it is dropped with that context.
                let __weft_fut = unsafe {{
                    ::core::pin::Pin::new_unchecked(&mut __weft_futs.{b})
                }};
                let __weft_v = match ::core::future::Future::poll(__weft_fut, __weft_cx) {{
                    ::core::task::Poll::Ready(__weft_v) => __weft_v,
                    ::core::task::Poll::Pending => {{
                        __weft_pending = true;
                        continue;
                    }}
                }};
                *__weft_disabled |= 1 << {b};
                #[allow(unused_variables, unused_mut, unreachable_patterns)]
                match &__weft_v {{
                    ${check} => {{}}
                    _ => continue,
                }}
                return ::core::task::Poll::Ready(__WeftOut::_{b}(__weft_v));
            }}\n"
        );
        let pat = arg(stream(&branch.pat));
        let handler = arg(branch.handler);
        out_arms += &format!("__WeftOut::_{b}(${pat}) => ${handler},\n");
    }
    let start = if select.biased {
        "0usize".to_owned()
    } else {
        format!("$1::__select_private::random_start({n})")
    };
    let src = format!(
        "{{
            enum __WeftOut<{tp}> {{ {variants} Disabled }}
            #[allow(unused_mut)]
            let mut __weft_out = {{
                let mut __weft_disabled: {mask} = 0;
                {conds}
                let __weft_raw = ({futs});
                let mut __weft_futs = ({into_futs});
                let __weft_futs = &mut __weft_futs;
                let __weft_disabled = &mut __weft_disabled;
                ::core::future::poll_fn(move |__weft_cx: &mut ::core::task::Context<'_>| {{
                    if !$1::__select_private::budget_available(__weft_cx) {{
                        return ::core::task::Poll::Pending;
                    }}
                    let __weft_start: usize = {start};
                    let mut __weft_pending = false;
                    for __weft_k in 0..{n}usize {{
                        let mut __weft_branch = __weft_start + __weft_k;
                        if __weft_branch >= {n}usize {{
                            __weft_branch -= {n}usize;
                        }}
                        match __weft_branch {{
                            {poll_arms}
                            _ => ::core::unreachable!(),
                        }}
                    }}
                    if __weft_pending {{
                        ::core::task::Poll::Pending
                    }} else {{
                        ::core::task::Poll::Ready(__WeftOut::Disabled)
                    }}
                }})
                .await
            }};
            match __weft_out {{
                {out_arms}
                __WeftOut::Disabled => $0,
                #[allow(unreachable_patterns)]
                _ => ::core::unreachable!(\"select!: the output of a branch did not match its pattern\"),
            }}
        }}",
        tp = type_params.join(", "),
        variants = variants.concat(),
    );
    template(&src, Span::mixed_site(), &args)
}
