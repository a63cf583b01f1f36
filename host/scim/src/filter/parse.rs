//! The RFC 7644 §3.4.2.2 filter grammar, written with `winnow`.
//!
//! ```text
//! FILTER    = orExp
//! orExp     = andExp *("or" andExp)            ; "and" binds tighter than "or"
//! andExp    = term *("and" term)
//! term      = "not" "(" FILTER ")" / "(" FILTER ")" / attrPath "[" valFilter "]" / attrExp
//! attrExp   = attrPath SP "pr" / attrPath SP compareOp SP compValue
//! attrPath  = [URI ":"] ATTRNAME ["." ATTRNAME]
//! ```
//! Keywords and operators are case-insensitive. Nesting (parentheses, `not`, value paths) is limited so a
//! hostile filter cannot exhaust the stack; errors carry the character position.

use winnow::error::{ContextError, ErrMode, StrContext, StrContextValue};
use winnow::prelude::*;
use winnow::stream::{Stateful, Stream};
use winnow::token::take_while;

use super::{AttrPath, CompValue, CompareOp, Filter};
use crate::ScimError;

/// Default maximum filter length in bytes.
pub const DEFAULT_MAX_FILTER_LEN: usize = 4096;
/// Default maximum nesting of parentheses, `not` and value paths.
pub const DEFAULT_MAX_FILTER_DEPTH: usize = 32;

/// Limits applied while parsing a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterLimits {
    pub max_len: usize,
    pub max_depth: usize,
}

impl Default for FilterLimits {
    fn default() -> Self {
        FilterLimits {
            max_len: DEFAULT_MAX_FILTER_LEN,
            max_depth: DEFAULT_MAX_FILTER_DEPTH,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct St {
    depth: usize,
    max_depth: usize,
    in_value_path: bool,
}

type In<'a> = Stateful<&'a str, St>;
type PR<T> = ModalResult<T>;

fn cut(what: &'static str) -> ErrMode<ContextError> {
    let mut e = ContextError::new();
    e.push(StrContext::Expected(StrContextValue::Description(what)));
    ErrMode::Cut(e)
}

fn label(what: &'static str) -> ErrMode<ContextError> {
    let mut e = ContextError::new();
    e.push(StrContext::Label(what));
    ErrMode::Cut(e)
}

fn ws(i: &mut In<'_>) -> PR<()> {
    take_while(0.., |c: char| c.is_ascii_whitespace())
        .void()
        .parse_next(i)
}

/// At least one whitespace character.
fn ws1(i: &mut In<'_>) -> bool {
    let r: PR<&str> = take_while(1.., |c: char| c.is_ascii_whitespace()).parse_next(i);
    r.is_ok()
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '$')
}

/// Consume `kw` (case-insensitive) if it is followed by a non-name character.
fn keyword(i: &mut In<'_>, kw: &str) -> bool {
    let s: &str = i.input;
    if s.len() >= kw.len()
        && s.as_bytes()[..kw.len()].eq_ignore_ascii_case(kw.as_bytes())
        && !s[kw.len()..].starts_with(|c: char| is_name_char(c) || c == '.' || c == ':')
    {
        let _ = i.next_slice(kw.len());
        true
    } else {
        false
    }
}

fn expect_char(i: &mut In<'_>, c: char, what: &'static str) -> PR<()> {
    if i.input.starts_with(c) {
        let _ = i.next_slice(c.len_utf8());
        Ok(())
    } else {
        Err(cut(what))
    }
}

/// Run `f` one nesting level deeper, restoring the level afterwards whatever the outcome.
fn nested<T>(i: &mut In<'_>, in_value_path: bool, f: impl FnOnce(&mut In<'_>) -> PR<T>) -> PR<T> {
    if i.state.depth >= i.state.max_depth {
        return Err(label("filter nested too deeply"));
    }
    let saved = i.state;
    i.state.depth += 1;
    i.state.in_value_path |= in_value_path;
    let r = f(i);
    i.state = saved;
    r
}

fn or_expr(i: &mut In<'_>) -> PR<Filter> {
    let mut left = and_expr(i)?;
    loop {
        let cp = i.checkpoint();
        ws(i)?;
        if keyword(i, "or") {
            let right = and_expr(i)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        } else {
            i.reset(&cp);
            return Ok(left);
        }
    }
}

fn and_expr(i: &mut In<'_>) -> PR<Filter> {
    let mut left = term(i)?;
    loop {
        let cp = i.checkpoint();
        ws(i)?;
        if keyword(i, "and") {
            let right = term(i)?;
            left = Filter::And(Box::new(left), Box::new(right));
        } else {
            i.reset(&cp);
            return Ok(left);
        }
    }
}

fn term(i: &mut In<'_>) -> PR<Filter> {
    ws(i)?;
    let cp = i.checkpoint();
    if keyword(i, "not") {
        ws(i)?;
        if i.input.starts_with('(') {
            let _ = i.next_slice(1);
            let inner = nested(i, false, or_expr)?;
            ws(i)?;
            expect_char(i, ')', "')'")?;
            return Ok(Filter::Not(Box::new(inner)));
        }
        // An attribute that happens to be called `not`.
        i.reset(&cp);
    }
    if i.input.starts_with('(') {
        let _ = i.next_slice(1);
        let inner = nested(i, false, or_expr)?;
        ws(i)?;
        expect_char(i, ')', "')'")?;
        return Ok(inner);
    }
    let path = attr_path(i)?;
    if i.input.starts_with('[') {
        if i.state.in_value_path {
            return Err(label("value filters cannot be nested"));
        }
        if path.sub_attr.is_some() {
            return Err(label(
                "a value filter applies to an attribute, not a sub-attribute",
            ));
        }
        let _ = i.next_slice(1);
        let inner = nested(i, true, or_expr)?;
        ws(i)?;
        expect_char(i, ']', "']'")?;
        return Ok(Filter::ValuePath {
            path,
            filter: Box::new(inner),
        });
    }
    if !ws1(i) {
        return Err(cut("space and an operator after the attribute name"));
    }
    let op_start = i.checkpoint();
    let op: &str = take_while(1.., |c: char| c.is_ascii_alphabetic())
        .parse_next(i)
        .map_err(|_: ErrMode<ContextError>| {
            cut("operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)")
        })?;
    if op.eq_ignore_ascii_case("pr") {
        return Ok(Filter::Present(path));
    }
    let Some(op) = CompareOp::from_name(op) else {
        i.reset(&op_start);
        return Err(cut("operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)"));
    };
    if !ws1(i) {
        return Err(cut("space before the comparison value"));
    }
    let value = comp_value(i)?;
    Ok(Filter::Compare { path, op, value })
}

fn comp_value(i: &mut In<'_>) -> PR<CompValue> {
    let s: &str = i.input;
    if s.starts_with('"') {
        // Find the closing quote, skipping escapes; serde_json then decodes the JSON string exactly.
        let bytes = s.as_bytes();
        let mut k = 1;
        while k < bytes.len() {
            match bytes[k] {
                b'\\' => k += 2,
                b'"' => break,
                _ => k += 1,
            }
        }
        if k >= bytes.len() {
            return Err(cut("closing '\"' of the string value"));
        }
        let lit = &s[..=k];
        let v: String =
            serde_json::from_str(lit).map_err(|_| label("invalid string value (bad escape)"))?;
        let _ = i.next_slice(k + 1);
        return Ok(CompValue::String(v));
    }
    for (kw, v) in [
        ("true", CompValue::Bool(true)),
        ("false", CompValue::Bool(false)),
        ("null", CompValue::Null),
    ] {
        if keyword(i, kw) {
            return Ok(v);
        }
    }
    if s.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        let n: &str = take_while(1.., |c: char| {
            c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E')
        })
        .parse_next(i)?;
        // Parse with std (correctly rounded) rather than serde_json's fast float path, which is not exact
        // without its `float_roundtrip` feature: printing and re-parsing must give the same value.
        let num = if let Ok(v) = n.parse::<i64>() {
            serde_json::Number::from(v)
        } else if let Ok(v) = n.parse::<u64>() {
            serde_json::Number::from(v)
        } else {
            n.parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .ok_or_else(|| label("invalid number"))?
        };
        if i.input.starts_with(is_name_char) {
            return Err(label("invalid number"));
        }
        return Ok(CompValue::Number(num));
    }
    Err(cut(
        "comparison value (a \"string\", number, true, false or null)",
    ))
}

fn attr_path(i: &mut In<'_>) -> PR<AttrPath> {
    let raw: &str = take_while(1.., |c: char| is_name_char(c) || c == '.' || c == ':')
        .parse_next(i)
        .map_err(|_: ErrMode<ContextError>| cut("attribute name"))?;
    split_path(raw).ok_or_else(|| label("invalid attribute path"))
}

/// Split `[urn:]attr[.sub]`; the URN is everything up to the last ':' (URNs contain dots, e.g. `2.0`).
fn split_path(raw: &str) -> Option<AttrPath> {
    let (urn, rest) = match raw.rfind(':') {
        Some(p) => {
            let urn = &raw[..p];
            if !urn.get(..4).is_some_and(|u| u.eq_ignore_ascii_case("urn:")) {
                return None;
            }
            (Some(urn.to_owned()), &raw[p + 1..])
        }
        None => (None, raw),
    };
    let (attr, sub) = match rest.split_once('.') {
        Some((a, s)) => (a, Some(s)),
        None => (rest, None),
    };
    let valid = |n: &str| {
        n.starts_with(|c: char| c.is_ascii_alphabetic() || c == '$') && n.chars().all(is_name_char)
    };
    // Microsoft's ECMA2Host extension names the DN `-dn-`, outside RFC 7643's ATTRNAME;
    // Entra sends it, so it is an attribute name too.
    let valid_attr = |n: &str| valid(n) || n.eq_ignore_ascii_case("-dn-");
    if !valid_attr(attr) || sub.is_some_and(|s| !valid(s)) {
        return None;
    }
    Some(AttrPath {
        urn,
        attr: attr.to_owned(),
        sub_attr: sub.map(str::to_owned),
    })
}

fn to_error(kind: &str, src: &str, offset: usize, e: &ContextError) -> ScimError {
    let near: String = src[offset.min(src.len())..].chars().take(20).collect();
    let what = e.to_string();
    let what = if what.is_empty() {
        "unexpected input".to_owned()
    } else {
        what
    };
    let near = if near.is_empty() {
        "end of input".to_owned()
    } else {
        format!("'{near}'")
    };
    ScimError::invalid_filter(format!(
        "invalid {kind} at position {} (near {near}): {what}",
        offset + 1
    ))
}

/// Parse a filter with the default [`FilterLimits`].
pub fn parse_filter(s: &str) -> Result<Filter, ScimError> {
    parse_filter_with(s, FilterLimits::default())
}

/// Parse a filter (RFC 7644 §3.4.2.2). Errors are 400 `invalidFilter` whose detail names the position.
pub fn parse_filter_with(s: &str, limits: FilterLimits) -> Result<Filter, ScimError> {
    if s.len() > limits.max_len {
        return Err(ScimError::invalid_filter(format!(
            "filter is {} bytes long; the limit is {}",
            s.len(),
            limits.max_len
        )));
    }
    let st = St {
        depth: 0,
        max_depth: limits.max_depth,
        in_value_path: false,
    };
    let mut p = |i: &mut In<'_>| -> PR<Filter> {
        let f = or_expr(i)?;
        ws(i)?;
        if !i.input.is_empty() {
            return Err(cut("'and', 'or' or the end of the filter"));
        }
        Ok(f)
    };
    p.parse(Stateful {
        input: s,
        state: st,
    })
    .map_err(|e| to_error("filter", s, e.offset(), e.inner()))
}

/// Parse a bare attribute path (`sortBy`, `attributes`, PATCH paths without a filter).
pub(crate) fn parse_attr_path(s: &str) -> Result<AttrPath, ScimError> {
    split_path(s.trim())
        .ok_or_else(|| ScimError::invalid_path(format!("invalid attribute path '{s}'")))
}

/// Parse a PATCH path `attrPath` or `attrPath "[" valFilter "]" ["." subAttr]` (RFC 7644 §3.5.2).
/// Returns the attribute path (with the trailing sub-attribute, if any) and the value filter.
pub(crate) fn parse_value_path(
    s: &str,
    limits: FilterLimits,
) -> Result<(AttrPath, Option<Filter>), ScimError> {
    let bad = |d: String| ScimError::invalid_path(d);
    let s = s.trim();
    if s.len() > limits.max_len {
        return Err(bad("path too long".to_owned()));
    }
    let Some(open) = s.find('[') else {
        return parse_attr_path(s).map(|p| (p, None));
    };
    let mut path =
        split_path(&s[..open]).ok_or_else(|| bad(format!("invalid attribute path in '{s}'")))?;
    if path.sub_attr.is_some() {
        return Err(bad(format!(
            "a value filter must follow an attribute, not a sub-attribute, in '{s}'"
        )));
    }
    let Some(close) = s.rfind(']') else {
        return Err(bad(format!("missing ']' in path '{s}'")));
    };
    if close < open {
        return Err(bad(format!("missing ']' in path '{s}'")));
    }
    let inner = &s[open + 1..close];
    let st = St {
        depth: 1,
        max_depth: limits.max_depth,
        in_value_path: true,
    };
    let mut p = |i: &mut In<'_>| -> PR<Filter> {
        let f = or_expr(i)?;
        ws(i)?;
        if !i.input.is_empty() {
            return Err(cut("'and', 'or' or ']'"));
        }
        Ok(f)
    };
    let filter = p
        .parse(Stateful {
            input: inner,
            state: st,
        })
        .map_err(|e| {
            let mut err = to_error("path filter", inner, e.offset(), e.inner());
            err.scim_type = Some(crate::ScimType::InvalidPath);
            err
        })?;
    let tail = &s[close + 1..];
    if !tail.is_empty() {
        let sub = tail
            .strip_prefix('.')
            .ok_or_else(|| bad(format!("unexpected '{tail}' after ']' in '{s}'")))?;
        if sub.is_empty()
            || !sub.starts_with(|c: char| c.is_ascii_alphabetic() || c == '$')
            || !sub.chars().all(is_name_char)
        {
            return Err(bad(format!("invalid sub-attribute '{sub}' in '{s}'")));
        }
        path.sub_attr = Some(sub.to_owned());
    }
    Ok((path, Some(filter)))
}
