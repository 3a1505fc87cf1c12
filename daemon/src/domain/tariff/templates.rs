//! Usernames and domains from a tariff's templates.

use super::MAX_USERNAME;
use crate::domain::ids::{AccountId, ServiceId};

/// Expand a template's macros. Unknown macros cannot occur: templates are
/// checked when the tariff is created.
pub fn expand(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (name, value) in values {
        out = out.replace(&format!("@{name}@"), value);
    }
    out
}

/// A username from the tariff's template: lowercased, reduced to the
/// characters a control panel accepts (a-z, 0-9, '_', '-'), and at most
/// [`MAX_USERNAME`] characters. `@DOMAIN@` is the domain the client asked for
/// (empty when the domain is generated, since that needs the username).
///
/// When the result is too long, the template's text and the free-text macros
/// (`@USERNAME@`, `@DOMAIN@`) are cut, last ones first, and the ids are kept:
/// cutting `@ID@` would give different services the same username.
pub fn username(
    template: &str,
    client_name: &str,
    client_id: AccountId,
    service_id: ServiceId,
    domain: Option<&str>,
) -> String {
    let clean = |text: &str| -> String {
        text.to_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect()
    };
    // What each piece of the template may lose when the result is too long.
    #[derive(Clone, Copy, PartialEq)]
    enum Cut {
        /// A free-text macro: cut first.
        Text,
        /// The template's own characters (separators, prefixes).
        Literal,
        /// An id: never cut.
        Id,
    }
    let mut pieces: Vec<(String, Cut)> = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('@') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('@') else { break };
        pieces.push((clean(&rest[..start]), Cut::Literal));
        pieces.push(match &after[..end] {
            "ID" => (service_id.to_string(), Cut::Id),
            "ACCOUNT_ID" => (client_id.to_string(), Cut::Id),
            "USERNAME" => (clean(client_name), Cut::Text),
            "DOMAIN" => (clean(domain.unwrap_or_default()), Cut::Text),
            // Templates are checked when the tariff is created.
            other => (clean(other), Cut::Literal),
        });
        rest = &after[end + 1..];
    }
    pieces.push((clean(rest), Cut::Literal));
    let total: usize = pieces.iter().map(|(p, _)| p.len()).sum();
    let mut excess = total.saturating_sub(MAX_USERNAME);
    for kind in [Cut::Text, Cut::Literal] {
        for (piece, _) in pieces.iter_mut().rev().filter(|(_, k)| *k == kind) {
            let cut = excess.min(piece.len());
            piece.truncate(piece.len() - cut);
            excess -= cut;
        }
    }
    let name: String = pieces
        .iter()
        .flat_map(|(p, _)| p.chars())
        .take(MAX_USERNAME)
        .collect();
    if name.is_empty() {
        format!("user{service_id}")
            .chars()
            .take(MAX_USERNAME)
            .collect()
    } else {
        name
    }
}

/// A default domain from the tariff's template, lowercased.
pub fn domain(template: &str, username: &str, product_type: &str, service_id: ServiceId) -> String {
    expand(
        template,
        &[
            ("USERNAME", username),
            ("TYPE", product_type),
            ("ID", &service_id.to_string()),
        ],
    )
    .to_lowercase()
}
