//! The role x field matrix page for compliance review.

use std::fmt::Write;
use std::sync::Arc;

use phiguard::{Engine, Plan, RecordAttrs, TreatmentKind};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn color(t: TreatmentKind) -> &'static str {
    match t {
        TreatmentKind::Clear => "#f8d7da",
        TreatmentKind::Mask => "#fde2c4",
        TreatmentKind::Shift => "#fff3bf",
        TreatmentKind::Pseudonymize => "#d3f9d8",
        TreatmentKind::Generalize => "#d0ebff",
        TreatmentKind::Scrub => "#e5dbff",
        _ => "#e9ecef",
    }
}

pub(crate) fn matrix(
    engine: &Engine,
    catalog: &str,
    columns: &[(String, String, Arc<Plan>)],
    attrs: &RecordAttrs,
) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>phiguard: who sees what ({})</title>\
<style>body{{font:14px system-ui,sans-serif;margin:2em}}table{{border-collapse:collapse}}\
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}th{{background:#f1f3f5;position:sticky;top:0}}\
.legend span{{padding:2px 8px;margin-right:6px}}</style></head><body>\
<h1>Who sees what: catalog <code>{}</code></h1>\
<p>Each cell is the treatment a role's policy gives a field (hover for the deciding policies). \
Record attributes: labels [{}], confidentiality {}, care team {}. Deny by default: grey cells are redacted.</p><p class=\"legend\">",
        esc(catalog),
        esc(catalog),
        esc(&attrs.labels.join(", ")),
        esc(&attrs.confidentiality),
        if attrs.treating { "yes" } else { "no" }
    );
    for t in TreatmentKind::ALL {
        let _ = write!(h, "<span style=\"background:{}\">{t}</span>", color(t));
    }
    h.push_str("</p><table><tr><th>field</th><th>category</th>");
    for (role, purpose, _) in columns {
        let _ = write!(
            h,
            "<th>{}<br><small>{}</small></th>",
            esc(role),
            esc(purpose)
        );
    }
    h.push_str("</tr>");
    let fields = columns.first().map(|(_, _, p)| p.fields.len()).unwrap_or(0);
    for i in 0..fields {
        let Some(first) = columns.first().and_then(|(_, _, p)| p.fields.get(i)) else {
            continue;
        };
        let desc = engine
            .pack()
            .categories()
            .get(&first.category)
            .map(|c| c.description.clone())
            .unwrap_or_default();
        let _ = write!(
            h,
            "<tr><td>{}</td><td title=\"{}\">{}</td>",
            esc(&first.field),
            esc(&desc),
            esc(&first.category)
        );
        for (_, _, plan) in columns {
            if let Some(f) = plan.fields.get(i) {
                let t = f.treatment.kind();
                let why = f.reason();
                let _ = write!(
                    h,
                    "<td style=\"background:{}\" title=\"{}\">{t}</td>",
                    color(t),
                    esc(&why)
                );
            }
        }
        h.push_str("</tr>");
    }
    h.push_str("</table></body></html>\n");
    h
}
