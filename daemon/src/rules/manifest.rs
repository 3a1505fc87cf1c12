//! The optional manifest `rules.toml` in the rules directory: which module file
//! serves which hook, globally and per reseller.
//!
//! ```toml
//! [hooks]
//! pricing = "my-pricing.wasm"
//!
//! [resellers.42]
//! pricing = "reseller-42.wasm"
//! ```
//!
//! A module whose rule keeps no state between calls may have its instances
//! kept warm instead of made fresh for every call (docs/rules-in-other-languages.md,
//! "Reusing instances"); it is worth it for Python and JavaScript rules:
//!
//! ```toml
//! reuse = ["my-pricing.wasm"]
//! ```
//!
//! A reseller is named by its id (`[resellers.42]` binds reseller 42's
//! requests); any other key is an error, since it could never match.
//!
//! Without a manifest, a file named after a hook (`pricing.wasm`,
//! `tariff-change.wasm`, ...) serves that hook. Any hook left unbound is served
//! by the embedded default module.

use crate::contract::hook::Hook;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

pub const FILE_NAME: &str = "rules.toml";

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Global bindings: hook -> module file name in the rules directory.
    #[serde(default)]
    pub hooks: BTreeMap<Hook, String>,
    /// Per-reseller bindings, which take precedence for that reseller's
    /// requests; keyed by reseller id, written as a decimal string (as
    /// requests look them up, see `app::binding`).
    #[serde(default)]
    pub resellers: BTreeMap<String, BTreeMap<Hook, String>>,
    /// Module files whose instances are kept between calls.
    #[serde(default, deserialize_with = "file_list")]
    pub reuse: Vec<String>,
}

/// `reuse` as a list of names, with an example when it is anything else.
fn file_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Vec::<String>::deserialize(d).map_err(|e| {
        serde::de::Error::custom(format!(
            "reuse must be a list of module file names, e.g. reuse = [\"rule.wasm\"] ({e})"
        ))
    })
}

impl Manifest {
    /// The bindings implied by file names when there is no manifest.
    pub fn by_convention(files: impl IntoIterator<Item = String>) -> Manifest {
        let mut hooks = BTreeMap::new();
        for file in files {
            if let Some(hook) = Hook::ALL
                .into_iter()
                .find(|h| file == format!("{}.wasm", h.name()))
            {
                hooks.insert(hook, file);
            }
        }
        Manifest {
            hooks,
            ..Manifest::default()
        }
    }

    /// Parse a manifest; the error names the file and says what is wrong.
    pub fn parse(path: &Path, text: &str) -> Result<Manifest, String> {
        let manifest: Manifest =
            toml::from_str(text).map_err(|e| format!("{}: {e}", path.display()))?;
        // A key that is not a reseller id would be listed and never used:
        // refuse it, so the mistake shows in /v1/rules.
        for key in manifest.resellers.keys() {
            if !is_reseller_id(key) {
                return Err(format!(
                    "{}: [resellers.{key}]: a reseller is named by its id, a positive \
                     integer without leading zeros, e.g. [resellers.42]",
                    path.display()
                ));
            }
        }
        for file in manifest
            .hooks
            .values()
            .chain(manifest.resellers.values().flat_map(|m| m.values()))
            .chain(&manifest.reuse)
        {
            if file.contains('/') || file.contains('\\') || !file.ends_with(".wasm") {
                return Err(format!(
                    "{}: {file:?} must be the name of a .wasm file in the rules directory",
                    path.display()
                ));
            }
        }
        Ok(manifest)
    }
}

/// Whether `key` is a reseller id exactly as `u64::to_string` writes it.
fn is_reseller_id(key: &str) -> bool {
    key.parse::<u64>()
        .is_ok_and(|id| id > 0 && id.to_string() == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_global_and_reseller_bindings() {
        let m = Manifest::parse(
            Path::new("rules.toml"),
            "[hooks]\npricing = \"a.wasm\"\n[resellers.1]\nwholesale = \"b.wasm\"\n",
        )
        .unwrap();
        assert_eq!(m.hooks[&Hook::Pricing], "a.wasm");
        assert_eq!(m.resellers["1"][&Hook::Wholesale], "b.wasm");
    }

    #[test]
    fn a_reseller_key_must_be_a_reseller_id() {
        for key in ["r-42", "0", "042", "-1", "\"\""] {
            let e = Manifest::parse(
                Path::new("rules.toml"),
                &format!("[resellers.{key}]\npricing = \"b.wasm\"\n"),
            )
            .unwrap_err();
            assert!(
                e.contains("a reseller is named by its id") && e.starts_with("rules.toml: "),
                "{key}: {e}"
            );
        }
        assert!(Manifest::parse(Path::new("rules.toml"), "[resellers.42]\n").is_ok());
    }

    #[test]
    fn rejects_unknown_hooks_and_paths() {
        let e = Manifest::parse(Path::new("rules.toml"), "[hooks]\npriceing = \"a.wasm\"\n")
            .unwrap_err();
        assert!(e.contains("unknown variant `priceing`"), "{e}");
        let e = Manifest::parse(
            Path::new("rules.toml"),
            "[hooks]\npricing = \"../a.wasm\"\n",
        )
        .unwrap_err();
        assert!(e.contains("must be the name of a .wasm file"), "{e}");
    }

    #[test]
    fn reuse_names_module_files() {
        let m = Manifest::parse(
            Path::new("rules.toml"),
            "reuse = [\"a.wasm\"]\n[hooks]\npricing = \"a.wasm\"\n",
        )
        .unwrap();
        assert_eq!(m.reuse, ["a.wasm"]);
        let e = Manifest::parse(Path::new("rules.toml"), "reuse = [\"a.py\"]\n").unwrap_err();
        assert!(
            e.contains("\"a.py\" must be the name of a .wasm file"),
            "{e}"
        );
        let e = Manifest::parse(Path::new("rules.toml"), "reuse = \"a.wasm\"\n").unwrap_err();
        assert!(
            e.contains("reuse must be a list of module file names, e.g. reuse = [\"rule.wasm\"]"),
            "{e}"
        );
    }

    #[test]
    fn convention_binds_files_named_after_hooks() {
        let m = Manifest::by_convention(["pricing.wasm".into(), "other.wasm".into()]);
        assert_eq!(m.hooks.len(), 1);
        assert_eq!(m.hooks[&Hook::Pricing], "pricing.wasm");
    }
}
