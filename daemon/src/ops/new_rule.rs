//! `rulesd new-rule`: a rule project to start from, in Rust, Python or
//! JavaScript. Everything written comes from this binary: the templates
//! (daemon/templates/new-rule), the examples' rules (examples/rules), the
//! scenarios and the contract's WIT (rules-sdk/wit, the one the daemon was
//! built with), so a project always matches the daemon that wrote it.

use crate::contract::hook::{CONTRACT_VERSION, Hook};
use std::fmt;
use std::path::{Path, PathBuf};

/// The contract, exactly as this daemon serves it.
const WIT: &str = include_str!("../../../rules-sdk/wit/rules.wit");
const README: &str = include_str!("../../templates/new-rule/README.md");
const GITIGNORE: &str = "/build/\n/target/\n/.toolchain/\n";

/// A language a project can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Rust,
    Python,
    Js,
}

impl std::str::FromStr for Lang {
    type Err = String;

    fn from_str(s: &str) -> Result<Lang, String> {
        match s {
            "rust" => Ok(Lang::Rust),
            "python" => Ok(Lang::Python),
            "js" | "javascript" => Ok(Lang::Js),
            _ => Err(format!(
                "{s:?} is not a language rulesd has templates for: rust, python, js"
            )),
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Lang::Rust => "Rust",
            Lang::Python => "Python",
            Lang::Js => "JavaScript",
        })
    }
}

/// Why no project was written.
#[derive(Debug, thiserror::Error)]
pub enum NewRuleError {
    #[error("{0} exists and is not empty; name a new or empty directory")]
    NotEmpty(PathBuf),
    #[error("name at least one hook (--hook pricing,proration)")]
    NoHooks,
    #[error(
        "there is no {lang} starting implementation of {hook} yet; {lang} projects can \
         export {available} (Rust ones any hook)"
    )]
    NoTemplate {
        lang: Lang,
        hook: Hook,
        available: &'static str,
    },
    #[error(
        "a Rust rule builds on the rulesd source tree (rules-sdk and the default rule); \
         {0} is not one: pass --rulesd-src with the directory of a rulesd checkout"
    )]
    NoSource(PathBuf),
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Write a project for `hooks` in `lang` into `dir` (new or empty) and
/// return the files written. `rulesd_src` is the rulesd source tree a Rust
/// project depends on.
pub fn generate(
    lang: Lang,
    hooks: &[Hook],
    dir: &Path,
    rulesd_src: &Path,
) -> Result<Vec<PathBuf>, NewRuleError> {
    let mut hooks = hooks.to_vec();
    hooks.sort();
    hooks.dedup();
    if hooks.is_empty() {
        return Err(NewRuleError::NoHooks);
    }
    if lang != Lang::Rust {
        // The examples are the Python and JavaScript starting points, and
        // they implement pricing (one world per hook: a single hook only).
        if let Some(&hook) = hooks.iter().find(|&&h| h != Hook::Pricing) {
            return Err(NewRuleError::NoTemplate {
                lang,
                hook,
                available: "pricing",
            });
        }
    }
    if lang == Lang::Rust && !rulesd_src.join("rules-sdk/Cargo.toml").is_file() {
        return Err(NewRuleError::NoSource(rulesd_src.to_path_buf()));
    }
    let not_empty = std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some());
    if not_empty {
        return Err(NewRuleError::NotEmpty(dir.to_path_buf()));
    }
    let mut files = common_files(lang, &hooks, dir);
    files.extend(match lang {
        Lang::Rust => rust_files(&hooks, rulesd_src),
        Lang::Python => python_files(),
        Lang::Js => js_files(),
    });
    let mut written = Vec::with_capacity(files.len());
    for (name, text) in files {
        let path = dir.join(name);
        write(&path, &text).map_err(|source| NewRuleError::Io {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

fn write(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, text)?;
    #[cfg(unix)]
    if path.extension().is_some_and(|e| e == "sh") {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}

/// The scenario that exercises a hook with the default rule's decisions as
/// its expectations (none for license-pool, which the default rule does
/// not implement).
fn scenario(hook: Hook) -> Option<&'static str> {
    Some(match hook {
        Hook::Pricing => include_str!("../../../examples/rules/scenarios/pricing.toml"),
        Hook::TariffChange => include_str!("../../../tests/scenarios/seed-002-tariff-change.toml"),
        Hook::Proration => include_str!("../../../tests/scenarios/seed-002-addons.toml"),
        Hook::IpAllocation => include_str!("../../../tests/scenarios/seed-000-ip-pools.toml"),
        Hook::Wholesale => include_str!("../../../tests/scenarios/seed-001-wholesale.toml"),
        Hook::LicensePool => return None,
    })
}

/// What every project has: the WIT, the bindings, the scenarios, a README.
fn common_files(lang: Lang, hooks: &[Hook], dir: &Path) -> Vec<(String, String)> {
    let names: Vec<&str> = hooks.iter().map(|h| h.name()).collect();
    let mut manifest = String::from("# Which hooks build/rules/rule.wasm serves.\n[hooks]\n");
    for name in &names {
        manifest.push_str(&format!("{name} = \"rule.wasm\"\n"));
    }
    let mut files = vec![
        ("wit/rules.wit".to_string(), WIT.to_string()),
        ("rules.toml".into(), manifest),
        (".gitignore".into(), GITIGNORE.into()),
    ];
    let scenarios: Vec<(String, String)> = hooks
        .iter()
        .filter_map(|&h| scenario(h).map(|s| (format!("scenarios/{h}.toml"), s.to_string())))
        .collect();
    let first = scenarios.first().map_or("pricing.toml".into(), |(n, _)| {
        n["scenarios/".len()..].to_string()
    });
    files.extend(scenarios);
    let (edit, toolchain, scope) = match lang {
        Lang::Rust => (
            "src/lib.rs",
            "rustup's wasm32-wasip2 target and crates.io",
            "",
        ),
        Lang::Python => (
            "app.py",
            "componentize-py 0.25.1 from PyPI, in .toolchain/",
            " for orders and renewals (daily charging, calendar-based periods and \
             late fees answer \"not implemented\")",
        ),
        Lang::Js => (
            "rule.js",
            "componentize-js 0.23.0 and jco 1.35.0 from npm, in .toolchain/",
            " for orders and renewals (daily charging, calendar-based periods and \
             late fees answer \"not implemented\")",
        ),
    };
    let name = dir
        .file_name()
        .map_or("rule".into(), |n| n.to_string_lossy().into_owned());
    let readme = README
        .replace("{{NAME}}", &name)
        .replace("{{LANG}}", &lang.to_string())
        .replace("{{CONTRACT}}", CONTRACT_VERSION)
        .replace("{{HOOKS}}", &names.join(", "))
        .replace("{{SCOPE}}", scope)
        .replace("{{EDIT}}", edit)
        .replace("{{TOOLCHAIN}}", toolchain)
        .replace("{{FIRST_SCENARIO}}", &first);
    files.push(("README.md".into(), readme));
    files
}

fn rust_files(hooks: &[Hook], rulesd_src: &Path) -> Vec<(String, String)> {
    let src = rulesd_src.display().to_string();
    vec![
        (
            "Cargo.toml".into(),
            include_str!("../../templates/new-rule/rust/Cargo.toml")
                .replace("{{RULESD_SRC}}", &src),
        ),
        // The versions the daemon's own rules are built and tested with;
        // cargo drops what this project does not use.
        (
            "Cargo.lock".into(),
            include_str!("../../../Cargo.lock").into(),
        ),
        (
            ".cargo/config.toml".into(),
            include_str!("../../templates/new-rule/rust/config.toml").into(),
        ),
        (
            "build.sh".into(),
            include_str!("../../templates/new-rule/rust/build.sh").into(),
        ),
        ("src/lib.rs".into(), rust_lib(hooks)),
    ]
}

/// A hook's trait, method and types in rules-sdk.
fn rust_names(hook: Hook) -> (&'static str, &'static str, &'static str, &'static str) {
    match hook {
        Hook::Pricing => ("Pricing", "price", "PriceRequest", "PriceDecision"),
        Hook::TariffChange => ("TariffChange", "change", "ChangeRequest", "ChangeDecision"),
        Hook::Proration => (
            "Proration",
            "prorate",
            "ProrationRequest",
            "ProrationDecision",
        ),
        Hook::IpAllocation => (
            "IpAllocation",
            "allocate",
            "AllocationRequest",
            "AllocationDecision",
        ),
        Hook::LicensePool => ("LicensePool", "decide", "LicenseRequest", "LicenseDecision"),
        Hook::Wholesale => (
            "Wholesale",
            "wholesale",
            "WholesaleRequest",
            "WholesaleDecision",
        ),
    }
}

/// src/lib.rs: each chosen hook answers what the default rule answers; the
/// others are left to the SDK's "not implemented" (and unbound in
/// rules.toml, so the daemon's default serves them).
fn rust_lib(hooks: &[Hook]) -> String {
    let names: Vec<&str> = hooks.iter().map(|h| h.name()).collect();
    let mut out = format!(
        "//! A rulesd rule: {}. Generated by `rulesd new-rule` for rulesd:rules@{CONTRACT_VERSION}.\n\
         //!\n\
         //! Each hook starts as the default rule's decision (`DefaultRules`, the\n\
         //! module embedded in rulesd): change the decision, or replace the call.\n\
         //! The request and decision types are rules-sdk's (`rules_sdk::*`).\n\
         //!\n\
         //! No std, like the default rule: a component without WASI is cheaper to\n\
         //! instantiate, and the daemon instantiates one per decision.\n\
         #![cfg_attr(target_arch = \"wasm32\", no_std)]\n\n\
         use rules_default::DefaultRules;\n\
         use rules_sdk::*;\n\n\
         pub struct Rule;\n",
        names.join(", ")
    );
    for hook in Hook::ALL {
        let (tr, method, request, decision) = rust_names(hook);
        if hooks.contains(&hook) {
            out.push_str(&format!(
                "\nimpl {tr} for Rule {{\n    \
                 fn {method}(request: {request}) -> Result<{decision}, RuleError> {{\n        \
                 <DefaultRules as {tr}>::{method}(request)\n    }}\n}}\n"
            ));
        } else {
            out.push_str(&format!(
                "\n// Not bound in rules.toml (the daemon's default serves it): answers \"not implemented\".\nimpl {tr} for Rule {{}}\n"
            ));
        }
    }
    out.push_str("\nexport_rules!(Rule);\n");
    out
}

fn python_files() -> Vec<(String, String)> {
    vec![
        (
            "app.py".into(),
            include_str!("../../../examples/rules/python/app.py").into(),
        ),
        (
            "build.sh".into(),
            include_str!("../../templates/new-rule/python/build.sh")
                .replace("{{WORLD}}", "pricing-rule"),
        ),
    ]
}

fn js_files() -> Vec<(String, String)> {
    vec![
        (
            "rule.js".into(),
            include_str!("../../../examples/rules/javascript/rule.js").into(),
        ),
        (
            "build.mjs".into(),
            include_str!("../../../examples/rules/javascript/build.mjs").into(),
        ),
        (
            "package.json".into(),
            include_str!("../../../examples/rules/javascript/package.json").into(),
        ),
        (
            "build.sh".into(),
            include_str!("../../templates/new-rule/js/build.sh")
                .replace("{{WORLD}}", "pricing-rule"),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .into()
    }

    #[test]
    fn a_rust_project_exports_the_chosen_hooks_from_the_default_rule() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("my-rule");
        let hooks = [Hook::Proration, Hook::Pricing];
        let files = generate(Lang::Rust, &hooks, &out, &src()).unwrap();
        assert!(files.contains(&out.join("wit/rules.wit")));
        let lib = std::fs::read_to_string(out.join("src/lib.rs")).unwrap();
        assert!(
            lib.contains("<DefaultRules as Pricing>::price(request)"),
            "{lib}"
        );
        assert!(
            lib.contains("<DefaultRules as Proration>::prorate(request)"),
            "{lib}"
        );
        assert!(lib.contains("impl Wholesale for Rule {}"), "{lib}");
        let manifest = std::fs::read_to_string(out.join("rules.toml")).unwrap();
        assert!(manifest.contains("pricing = \"rule.wasm\"\nproration = \"rule.wasm\"\n"));
        assert!(!manifest.contains("wholesale"));
        assert!(out.join("scenarios/pricing.toml").is_file());
        assert!(out.join("scenarios/proration.toml").is_file());
        let cargo = std::fs::read_to_string(out.join("Cargo.toml")).unwrap();
        assert!(!cargo.contains("{{"), "{cargo}");
        let wit = std::fs::read_to_string(out.join("wit/rules.wit")).unwrap();
        assert!(wit.contains(&format!("package rulesd:rules@{CONTRACT_VERSION};")));
    }

    #[test]
    fn python_and_js_projects_are_pricing_only_and_say_so() {
        let dir = tempfile::tempdir().unwrap();
        let err = generate(
            Lang::Python,
            &[Hook::Wholesale],
            &dir.path().join("p"),
            &src(),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "there is no Python starting implementation of wholesale yet; Python projects \
             can export pricing (Rust ones any hook)"
        );
        let files = generate(Lang::Js, &[Hook::Pricing], &dir.path().join("j"), &src()).unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|p| {
                p.strip_prefix(dir.path().join("j"))
                    .unwrap()
                    .display()
                    .to_string()
            })
            .collect();
        for want in [
            "rule.js",
            "build.mjs",
            "package.json",
            "build.sh",
            "README.md",
        ] {
            assert!(names.iter().any(|n| n == want), "{want} in {names:?}");
        }
        let readme = std::fs::read_to_string(dir.path().join("j/README.md")).unwrap();
        assert!(!readme.contains("{{"), "{readme}");
    }

    #[test]
    fn a_non_empty_directory_or_a_missing_source_tree_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("keep.txt"), "mine").unwrap();
        let err = generate(Lang::Python, &[Hook::Pricing], dir.path(), &src()).unwrap_err();
        assert!(matches!(err, NewRuleError::NotEmpty(_)), "{err}");
        let err = generate(
            Lang::Rust,
            &[Hook::Pricing],
            &dir.path().join("r"),
            dir.path(),
        )
        .unwrap_err();
        assert!(matches!(err, NewRuleError::NoSource(_)), "{err}");
        assert!(err.to_string().contains("--rulesd-src"), "{err}");
    }
}
