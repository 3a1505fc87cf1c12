//! Partial JSON expectations and `${name.field}` references between steps.

use serde_json::Value;
use std::collections::HashMap;

/// One field that differs.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Mismatch {
    /// Where in the body, e.g. `services[0].expires`.
    pub path: String,
    pub expected: Value,
    /// None: the field is missing.
    pub actual: Option<Value>,
}

/// Compare `actual` against the partial `expected`: objects only on the keys
/// named, arrays element by element (and their length), anything else exactly.
pub fn compare(expected: &Value, actual: &Value) -> Vec<Mismatch> {
    let mut out = Vec::new();
    walk("", expected, Some(actual), &mut out);
    out
}

fn walk(path: &str, expected: &Value, actual: Option<&Value>, out: &mut Vec<Mismatch>) {
    let here = |out: &mut Vec<Mismatch>| {
        out.push(Mismatch {
            path: if path.is_empty() {
                "(body)".into()
            } else {
                path.into()
            },
            expected: expected.clone(),
            actual: actual.cloned(),
        })
    };
    match (expected, actual) {
        (Value::Object(e), Some(Value::Object(a))) => {
            for (k, v) in e {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk(&p, v, a.get(k), out);
            }
        }
        (Value::Array(e), Some(Value::Array(a))) => {
            if e.len() != a.len() {
                out.push(Mismatch {
                    path: format!("{}.length", if path.is_empty() { "(body)" } else { path }),
                    expected: Value::from(e.len()),
                    actual: Some(Value::from(a.len())),
                });
            }
            for (i, v) in e.iter().enumerate() {
                walk(&format!("{path}[{i}]"), v, a.get(i), out);
            }
        }
        (e, Some(a)) if e == a => {}
        _ => here(out),
    }
}

/// Responses saved by earlier steps, by name.
#[derive(Debug, Default)]
pub struct Saved(HashMap<String, Value>);

impl Saved {
    pub fn insert(&mut self, name: String, value: Value) {
        self.0.insert(name, value);
    }

    /// The value at `name.a.0.b`.
    fn lookup(&self, reference: &str) -> Result<Value, String> {
        let mut parts = reference.split('.');
        let name = parts.next().unwrap_or_default();
        let mut value = self
            .0
            .get(name)
            .ok_or_else(|| format!("${{{reference}}}: no earlier step saved {name:?}"))?;
        for part in parts {
            value = match (value, part.parse::<usize>()) {
                (Value::Array(a), Ok(i)) => a.get(i),
                (Value::Object(o), _) => o.get(part),
                _ => None,
            }
            .ok_or_else(|| format!("${{{reference}}}: {name} has no {part:?}"))?;
        }
        Ok(value.clone())
    }

    /// Replace references in every string of `value`. A string that is just
    /// one reference becomes the referenced value (a number stays a number).
    pub fn resolve(&self, value: &Value) -> Result<Value, String> {
        Ok(match value {
            Value::String(s) => self.resolve_str(s)?,
            Value::Array(a) => Value::Array(
                a.iter()
                    .map(|v| self.resolve(v))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| Ok((k.clone(), self.resolve(v)?)))
                    .collect::<Result<_, String>>()?,
            ),
            other => other.clone(),
        })
    }

    fn resolve_str(&self, s: &str) -> Result<Value, String> {
        if let Some(inner) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}'))
            && !inner.contains("${")
        {
            return self.lookup(inner);
        }
        let mut out = String::new();
        let mut rest = s;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| format!("{s:?}: unclosed ${{"))?;
            match self.lookup(&after[..end])? {
                Value::String(v) => out.push_str(&v),
                v => out.push_str(&v.to_string()),
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(Value::String(out))
    }

    /// Resolve references in a path like `/v1/services/${svc.id}/renew`.
    pub fn resolve_path(&self, path: &str) -> Result<String, String> {
        match self.resolve_str(path)? {
            Value::String(s) => Ok(s),
            v => Ok(v.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn partial_objects_exact_arrays() {
        let actual =
            json!({"total": "20.00", "services": [{"id": 1, "expires": "2026-08-01"}], "x": 1});
        assert!(compare(&json!({"services": [{"expires": "2026-08-01"}]}), &actual).is_empty());
        let m = compare(
            &json!({"total": "20.01", "services": [{}, {}], "y": 2}),
            &actual,
        );
        let paths: Vec<_> = m.iter().map(|m| m.path.as_str()).collect();
        // Keys are compared in name order.
        assert_eq!(paths, ["services.length", "services[1]", "total", "y"]);
        assert_eq!(m[3].actual, None);
    }

    #[test]
    fn references_resolve_to_values_and_text() {
        let mut saved = Saved::default();
        saved.insert("o".into(), json!({"services": [{"id": 7}]}));
        assert_eq!(
            saved.resolve(&json!("${o.services.0.id}")).unwrap(),
            json!(7)
        );
        assert_eq!(
            saved
                .resolve_path("/v1/services/${o.services.0.id}/renew")
                .unwrap(),
            "/v1/services/7/renew"
        );
        assert!(
            saved
                .resolve(&json!("${nope.id}"))
                .unwrap_err()
                .contains("no earlier step")
        );
        assert!(saved.resolve(&json!("${o.services.3}")).is_err());
    }
}
