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
        Lang::Python => python_files(&hooks),
        Lang::Js => js_files(&hooks),
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

/// The scenario that exercises a hook, with the default rule's decisions as
/// its expectations: the seed's for a Rust project (which starts as the whole
/// default rule), the example's for Python and JavaScript (what their ports
/// of the default implement).
fn scenario(lang: Lang, hook: Hook) -> &'static str {
    if lang != Lang::Rust {
        return sources(lang, hook)
            .expect("the examples have a module for every hook")
            .scenario;
    }
    match hook {
        Hook::Pricing => include_str!("../../../examples/rules/scenarios/pricing.toml"),
        Hook::TariffChange => include_str!("../../../tests/scenarios/seed-002-tariff-change.toml"),
        Hook::Proration => include_str!("../../../tests/scenarios/seed-002-addons.toml"),
        Hook::IpAllocation => include_str!("../../../tests/scenarios/seed-000-ip-pools.toml"),
        Hook::Wholesale => include_str!("../../../tests/scenarios/seed-001-wholesale.toml"),
        Hook::LicensePool => include_str!("../../../tests/scenarios/seed-003-license-pool.toml"),
    }
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
    for &hook in hooks {
        files.push((
            format!("scenarios/{hook}.toml"),
            scenario(lang, hook).into(),
        ));
    }
    let first = format!("{}.toml", hooks[0]);
    // What to edit: the hooks' modules (a Python or JavaScript project has one
    // per hook) or src/lib.rs.
    let modules: Vec<&str> = hooks
        .iter()
        .filter_map(|&h| sources(lang, h).map(|s| s.file))
        .collect();
    let scope = " where each hook's module says it does (the rest it answers \
                 \"not implemented\", never with a decision of its own)";
    let (edit, toolchain, scope) = match lang {
        Lang::Rust => (
            "src/lib.rs".to_string(),
            "rustup's wasm32-wasip2 target and crates.io",
            "",
        ),
        Lang::Python => (
            modules.join(", "),
            "componentize-py 0.25.1 from PyPI, in .toolchain/",
            scope,
        ),
        Lang::Js => (
            modules.join(", "),
            "componentize-js 0.23.0 and jco 1.35.0 from npm, in .toolchain/",
            scope,
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
        .replace("{{EDIT}}", &edit)
        .replace("{{TOOLCHAIN}}", toolchain)
        .replace(
            "{{SHARE}}",
            match lang {
                Lang::Rust => {
                    "`RULE_TARGET_DIR=DIR ./build.sh` builds in `DIR` instead (cargo's target \
                     directory), for several projects to share."
                }
                _ => {
                    "`WORK=DIR ./build.sh` keeps the toolchain in `DIR` instead, for several \
                     projects to share."
                }
            },
        )
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

/// src/lib.rs: each chosen hook answers what the default rule answers, and
/// the component exports those hooks only.
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
    for &hook in hooks {
        let (tr, method, request, decision) = rust_names(hook);
        out.push_str(&format!(
            "\nimpl {tr} for Rule {{\n    \
             fn {method}(request: {request}) -> Result<{decision}, RuleError> {{\n        \
             <DefaultRules as {tr}>::{method}(request)\n    }}\n}}\n"
        ));
    }
    let exported: Vec<String> = hooks.iter().map(|h| h.name().replace('-', "_")).collect();
    out.push_str(&format!(
        "\n// The component exports these hooks and no others.\nexport_hooks!(Rule: {});\n",
        exported.join(", ")
    ));
    out
}

/// A hook's module in the Python or JavaScript example rule
/// (examples/rules/LANG/): its file name and text, and how the rule's entry
/// module names its export. Every hook has one in both languages; None for
/// Rust, whose hooks call the default rule.
struct HookSource {
    file: &'static str,
    text: &'static str,
    export: &'static str,
    /// examples/rules/scenarios/HOOK.toml, which both languages pass.
    scenario: &'static str,
}

fn sources(lang: Lang, hook: Hook) -> Option<HookSource> {
    macro_rules! source {
        ($hook:literal, $py:literal, $py_export:literal, $js:literal, $js_export:literal) => {{
            let scenario = include_str!(concat!(
                "../../../examples/rules/scenarios/",
                $hook,
                ".toml"
            ));
            match lang {
                Lang::Rust => None,
                Lang::Python => Some(HookSource {
                    file: $py,
                    text: include_str!(concat!("../../../examples/rules/python/", $py)),
                    export: $py_export,
                    scenario,
                }),
                Lang::Js => Some(HookSource {
                    file: $js,
                    text: include_str!(concat!("../../../examples/rules/javascript/", $js)),
                    export: $js_export,
                    scenario,
                }),
            }
        }};
    }
    match hook {
        Hook::Pricing => source!("pricing", "pricing.py", "Pricing", "pricing.js", "pricing"),
        Hook::TariffChange => source!(
            "tariff-change",
            "tariff_change.py",
            "TariffChange",
            "tariff_change.js",
            "tariffChange"
        ),
        Hook::Proration => source!(
            "proration",
            "proration.py",
            "Proration",
            "proration.js",
            "proration"
        ),
        Hook::IpAllocation => source!(
            "ip-allocation",
            "ip_allocation.py",
            "IpAllocation",
            "ip_allocation.js",
            "ipAllocation"
        ),
        Hook::LicensePool => source!(
            "license-pool",
            "license_pool.py",
            "LicensePool",
            "license_pool.js",
            "licensePool"
        ),
        Hook::Wholesale => source!(
            "wholesale",
            "wholesale.py",
            "Wholesale",
            "wholesale.js",
            "wholesale"
        ),
    }
}

/// wit/world.wit: the world a Python or JavaScript project builds, which
/// exports exactly its hooks (the interfaces are in wit/rules.wit, the same
/// package).
fn world(hooks: &[Hook]) -> String {
    let mut out = format!(
        "package rulesd:rules@{CONTRACT_VERSION};\n\n\
         /// What this rule exports: its hooks, and no others (the interfaces are in rules.wit).\n\
         world rule {{\n"
    );
    for hook in hooks {
        out.push_str(&format!("    export {};\n", hook.name()));
    }
    out.push_str("}\n");
    out
}

fn python_files(hooks: &[Hook]) -> Vec<(String, String)> {
    let mut app = String::from(include_str!("../../templates/new-rule/python/app.py"));
    let mut exported = Vec::new();
    let mut files = vec![
        ("wit/world.wit".to_string(), world(hooks)),
        (
            "common.py".into(),
            include_str!("../../../examples/rules/python/common.py").into(),
        ),
        (
            "period.py".into(),
            include_str!("../../../examples/rules/python/period.py").into(),
        ),
        (
            "build.sh".into(),
            include_str!("../../templates/new-rule/python/build.sh").into(),
        ),
    ];
    for &hook in hooks {
        let source =
            sources(Lang::Python, hook).expect("the examples have a module for every hook");
        let module = source.file.trim_end_matches(".py");
        app.push_str(&format!("from {module} import {}\n", source.export));
        exported.push(format!("{:?}", source.export));
        files.push((source.file.into(), source.text.into()));
    }
    app.push_str(&format!("\n__all__ = [{}]\n", exported.join(", ")));
    files.push(("app.py".into(), app));
    files
}

fn js_files(hooks: &[Hook]) -> Vec<(String, String)> {
    let mut rule = String::from(include_str!("../../templates/new-rule/js/rule.js"));
    let mut files = vec![
        ("wit/world.wit".to_string(), world(hooks)),
        (
            "common.js".into(),
            include_str!("../../../examples/rules/javascript/common.js").into(),
        ),
        (
            "period.js".into(),
            include_str!("../../../examples/rules/javascript/period.js").into(),
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
            include_str!("../../templates/new-rule/js/build.sh").into(),
        ),
    ];
    for &hook in hooks {
        let source = sources(Lang::Js, hook).expect("the examples have a module for every hook");
        rule.push_str(&format!(
            "export {{ {} }} from './{}';\n",
            source.export, source.file
        ));
        files.push((source.file.into(), source.text.into()));
    }
    files.push(("rule.js".into(), rule));
    files
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
        assert!(
            lib.contains("export_hooks!(Rule: pricing, proration);"),
            "{lib}"
        );
        assert!(!lib.contains("Wholesale"), "{lib}");
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
    fn python_and_js_projects_hold_a_module_per_hook_and_a_world_exporting_them() {
        let dir = tempfile::tempdir().unwrap();
        let py = dir.path().join("p");
        generate(Lang::Python, &[Hook::Pricing], &py, &src()).unwrap();
        let app = std::fs::read_to_string(py.join("app.py")).unwrap();
        assert!(app.contains("from pricing import Pricing\n"), "{app}");
        let world = std::fs::read_to_string(py.join("wit/world.wit")).unwrap();
        assert!(
            world.contains("world rule {\n    export pricing;\n}"),
            "{world}"
        );
        for file in [
            "common.py",
            "pricing.py",
            "build.sh",
            "scenarios/pricing.toml",
        ] {
            assert!(py.join(file).is_file(), "{file}");
        }
        let js = dir.path().join("j");
        let files = generate(Lang::Js, &[Hook::Pricing], &js, &src()).unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|p| p.strip_prefix(&js).unwrap().display().to_string())
            .collect();
        for want in [
            "rule.js",
            "common.js",
            "pricing.js",
            "build.mjs",
            "package.json",
            "build.sh",
            "README.md",
            "wit/world.wit",
        ] {
            assert!(names.iter().any(|n| n == want), "{want} in {names:?}");
        }
        let rule = std::fs::read_to_string(js.join("rule.js")).unwrap();
        assert!(
            rule.contains("export { pricing } from './pricing.js';"),
            "{rule}"
        );
        let readme = std::fs::read_to_string(js.join("README.md")).unwrap();
        assert!(!readme.contains("{{"), "{readme}");
        assert!(readme.contains("change pricing.js from there"), "{readme}");
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
