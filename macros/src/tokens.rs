//! Small helpers over `proc_macro` token trees (no syn, no quote).

use proc_macro::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};

/// `::core::compile_error!("msg");`, spanned so that the message points at `span`.
pub(crate) fn error(span: Span, msg: &str) -> TokenStream {
    let tokens: Vec<TokenTree> = vec![
        Punct::new(':', Spacing::Joint).into(),
        Punct::new(':', Spacing::Alone).into(),
        Ident::new("core", span).into(),
        Punct::new(':', Spacing::Joint).into(),
        Punct::new(':', Spacing::Alone).into(),
        Ident::new("compile_error", span).into(),
        Punct::new('!', Spacing::Alone).into(),
        Group::new(
            Delimiter::Parenthesis,
            TokenTree::from(Literal::string(msg)).into(),
        )
        .into(),
        Punct::new(';', Spacing::Alone).into(),
    ];
    tokens
        .into_iter()
        .map(|mut t| {
            t.set_span(span);
            t
        })
        .collect()
}

/// Parses `src`, gives every token `span`, and replaces each `$N` by `args[N]` (whose tokens
/// keep their own spans).
pub(crate) fn template(src: &str, span: Span, args: &[TokenStream]) -> TokenStream {
    let parsed: TokenStream = src.parse().expect("weft-macros: a template does not parse");
    fill(parsed, span, args)
}

fn fill(ts: TokenStream, span: Span, args: &[TokenStream]) -> TokenStream {
    let mut out = TokenStream::new();
    let mut iter = ts.into_iter().peekable();
    while let Some(tt) = iter.next() {
        match tt {
            TokenTree::Punct(p) if p.as_char() == '$' => {
                let Some(TokenTree::Literal(n)) = iter.next() else {
                    panic!("weft-macros: `$` in a template is not followed by a number");
                };
                let n: usize = n.to_string().parse().expect("weft-macros: bad placeholder");
                out.extend(args[n].clone());
            }
            TokenTree::Group(g) => {
                let mut group = Group::new(g.delimiter(), fill(g.stream(), span, args));
                group.set_span(span);
                out.extend([TokenTree::Group(group)]);
            }
            mut other => {
                other.set_span(span);
                out.extend([other]);
            }
        }
    }
    out
}

pub(crate) fn is_punct(tt: Option<&TokenTree>, ch: char) -> bool {
    matches!(tt, Some(TokenTree::Punct(p)) if p.as_char() == ch)
}

pub(crate) fn is_joint(tt: Option<&TokenTree>) -> bool {
    matches!(tt, Some(TokenTree::Punct(p)) if p.spacing() == Spacing::Joint)
}

pub(crate) fn is_ident(tt: Option<&TokenTree>, name: &str) -> bool {
    matches!(tt, Some(TokenTree::Ident(i)) if i.to_string() == name)
}

/// Whether `toks[i..]` starts with `=>`.
pub(crate) fn is_fat_arrow(toks: &[TokenTree], i: usize) -> bool {
    is_punct(toks.get(i), '=') && is_joint(toks.get(i)) && is_punct(toks.get(i + 1), '>')
}

/// Whether `toks[i..]` starts with `->`.
pub(crate) fn is_thin_arrow(toks: &[TokenTree], i: usize) -> bool {
    is_punct(toks.get(i), '-') && is_joint(toks.get(i)) && is_punct(toks.get(i + 1), '>')
}

/// Whether `toks[i]` is a `=` on its own: not part of `==`, `=>`, `<=`, `..=`, `+=` ...
pub(crate) fn is_lone_eq(toks: &[TokenTree], i: usize) -> bool {
    if !is_punct(toks.get(i), '=') {
        return false;
    }
    let glued_before = i > 0 && is_joint(toks.get(i - 1));
    let glued_after =
        is_joint(toks.get(i)) && (is_punct(toks.get(i + 1), '=') || is_punct(toks.get(i + 1), '>'));
    !glued_before && !glued_after
}

/// The index of the first `,` at the top level of `toks[from..]` that is not inside a
/// turbofish (`::<A, B>`), or `toks.len()`.
pub(crate) fn find_comma(toks: &[TokenTree], from: usize) -> usize {
    let mut angle = 0usize;
    let mut i = from;
    while i < toks.len() {
        let t = toks.get(i);
        if is_punct(t, ',') && angle == 0 {
            return i;
        }
        if is_punct(t, '<') && (angle > 0 || (i >= 1 && is_punct(toks.get(i - 1), ':'))) {
            angle += 1;
        } else if is_punct(t, '>') && angle > 0 && !(i >= 1 && is_thin_arrow(toks, i - 1)) {
            angle -= 1;
        }
        i += 1;
    }
    toks.len()
}

pub(crate) fn stream(toks: &[TokenTree]) -> TokenStream {
    toks.iter().cloned().collect()
}

/// The span of the first token of `toks`, or `fallback`.
pub(crate) fn first_span(toks: &[TokenTree], fallback: Span) -> Span {
    toks.first().map_or(fallback, TokenTree::span)
}
