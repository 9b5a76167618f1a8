//! Free text inside resources: an `Attachment`'s base64 text (decoded, scrubbed, encoded
//! again) and a `Narrative`'s XHTML (its text between tags scrubbed, its markup kept).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use super::walk::Walk;
use crate::error::Result;

/// An `Attachment` in a note category: text content scrubbed as the plan treats notes;
/// content that is not text (an image, a PDF) can't be scrubbed and goes unless notes are
/// shown in clear.
pub(crate) fn attachment(w: &mut Walk<'_, '_>, obj: &mut Map<String, Value>) -> Result<()> {
    let text_type = obj
        .get("contentType")
        .and_then(Value::as_str)
        .is_some_and(|t| t.starts_with("text/"));
    if let Some(title) = obj.get_mut("title") {
        w.category_leaf(title, "note", "string")?;
    }
    if let Some(creation) = obj.get_mut("creation") {
        w.category_leaf(creation, "event_date", "dateTime")?;
    }
    for k in ["url", "hash"] {
        if obj.remove(k).is_some() {
            w.labels.insert("REDACTED");
        }
    }
    let Some(data) = obj.get_mut("data") else {
        return Ok(());
    };
    let decoded = data
        .as_str()
        .and_then(|d| STANDARD.decode(d).ok())
        .and_then(|b| String::from_utf8(b).ok());
    match decoded {
        Some(text) if text_type => {
            let mut v = Value::String(text);
            w.category_leaf(&mut v, "note", "string")?;
            match v {
                Value::String(s) => *data = Value::String(STANDARD.encode(s.as_bytes())),
                _ => *data = Value::Null,
            }
        }
        _ => {
            // Not text, or not valid base64 / UTF-8: kept only where notes are clear.
            if !w.shows_clear("note") {
                w.labels.insert("REDACTED");
                *data = Value::Null;
                obj.remove("size");
            }
        }
    }
    Ok(())
}

/// A `Narrative`: the text of its XHTML scrubbed piece by piece between tags, the tags
/// themselves kept (they hold markup, not PHI; attributes other than `xmlns`, `class` and
/// `style` go, since an `href` or `title` can name someone).
pub(crate) fn narrative(w: &mut Walk<'_, '_>, obj: &mut Map<String, Value>) -> Result<()> {
    let Some(Value::String(div)) = obj.get("div").cloned() else {
        return Ok(());
    };
    let mut out = String::with_capacity(div.len());
    let mut rest = div.as_str();
    let mut removed = false;
    while !rest.is_empty() {
        match rest.find('<') {
            Some(0) => {
                let end = rest.find('>').map_or(rest.len(), |i| i + 1);
                out.push_str(&clean_tag(&rest[..end]));
                rest = &rest[end..];
            }
            Some(i) => {
                removed |= scrub_piece(w, &rest[..i], &mut out)?;
                rest = &rest[i..];
            }
            None => {
                removed |= scrub_piece(w, rest, &mut out)?;
                rest = "";
            }
        }
    }
    if removed {
        w.labels.insert("REDACTED");
    }
    if !has_text(&out) {
        // FHIR wants a narrative with some text (txt-2): one left with none goes whole.
        obj.clear();
        return Ok(());
    }
    obj.insert("div".into(), Value::String(out));
    Ok(())
}

/// Whether XHTML `div` holds any text outside its tags.
fn has_text(div: &str) -> bool {
    let mut in_tag = false;
    div.chars().any(|c| match c {
        '<' => {
            in_tag = true;
            false
        }
        '>' => {
            in_tag = false;
            false
        }
        c => !in_tag && !c.is_whitespace(),
    })
}

/// Scrubs one text piece of a narrative into `out`; `true` when it was removed whole.
fn scrub_piece(w: &mut Walk<'_, '_>, piece: &str, out: &mut String) -> Result<bool> {
    if piece.trim().is_empty() {
        out.push_str(piece);
        return Ok(false);
    }
    let mut v = Value::String(piece.to_owned());
    w.category_leaf(&mut v, "note", "string")?;
    Ok(match v {
        Value::String(s) => {
            // Scrub labels such as `[NAME]` are text, not markup: escape them as XHTML.
            out.push_str(&s.replace('<', "&lt;").replace('>', "&gt;"));
            false
        }
        _ => true,
    })
}

/// A tag with only the attributes that carry no text of the record.
fn clean_tag(tag: &str) -> String {
    if tag.starts_with("</") || !tag.contains('=') {
        return tag.to_owned();
    }
    let inner = tag.trim_start_matches('<').trim_end_matches('>');
    let self_closing = inner.ends_with('/');
    let inner = inner.trim_end_matches('/');
    let name = inner.split_whitespace().next().unwrap_or("");
    let mut out = format!("<{name}");
    let mut attrs = &inner[name.len()..];
    while let Some(eq) = attrs.find('=') {
        let attr = attrs[..eq].trim();
        let after = &attrs[eq + 1..];
        let quote = after.trim_start().chars().next().unwrap_or('"');
        let after = after.trim_start().get(1..).unwrap_or("");
        let end = after.find(quote).unwrap_or(after.len());
        let value = &after[..end];
        if matches!(attr, "xmlns" | "class" | "style") {
            out.push_str(&format!(" {attr}={quote}{value}{quote}"));
        }
        attrs = after.get(end + 1..).unwrap_or("");
    }
    if self_closing {
        out.push('/');
    }
    out.push('>');
    out
}

#[cfg(test)]
mod tests {
    use super::clean_tag;

    #[test]
    fn tags_keep_markup_attributes_only() {
        assert_eq!(
            clean_tag(r#"<div xmlns="http://www.w3.org/1999/xhtml">"#),
            r#"<div xmlns="http://www.w3.org/1999/xhtml">"#
        );
        assert_eq!(
            clean_tag(r#"<a href="Patient/p1" class="x">"#),
            r#"<a class="x">"#
        );
        assert_eq!(clean_tag("</p>"), "</p>");
        assert_eq!(clean_tag("<br/>"), "<br/>");
    }
}
