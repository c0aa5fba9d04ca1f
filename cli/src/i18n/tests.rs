//! The message files: both languages have the same messages, attributes and variables, every
//! file parses, and every message the code names exists.

use std::collections::{BTreeMap, BTreeSet};

use fluent_syntax::ast;

use super::*;

/// For each message and term of `text`: its attributes and the variables it uses.
type Shape = BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)>;

fn shape(file: &str, lang: &str, text: &str) -> Shape {
    let resource = match fluent_syntax::parser::parse(text) {
        Ok(r) => r,
        Err((_, errors)) => panic!("{lang}/{file}.ftl does not parse: {errors:?}"),
    };
    let mut out = Shape::new();
    for entry in resource.body {
        let (id, value, attributes) = match entry {
            ast::Entry::Message(m) => (m.id.name.to_string(), m.value, m.attributes),
            ast::Entry::Term(t) => (format!("-{}", t.id.name), Some(t.value), t.attributes),
            _ => continue,
        };
        let mut vars = BTreeSet::new();
        if let Some(p) = &value {
            pattern_vars(p, &mut vars);
        }
        let mut attrs = BTreeSet::new();
        for a in &attributes {
            attrs.insert(a.id.name.to_string());
            pattern_vars(&a.value, &mut vars);
        }
        assert!(
            out.insert(id.clone(), (attrs, vars)).is_none(),
            "{lang}/{file}.ftl defines {id} twice"
        );
    }
    out
}

fn pattern_vars(p: &ast::Pattern<&str>, vars: &mut BTreeSet<String>) {
    for el in &p.elements {
        if let ast::PatternElement::Placeable { expression } = el {
            expression_vars(expression, vars);
        }
    }
}

fn expression_vars(e: &ast::Expression<&str>, vars: &mut BTreeSet<String>) {
    match e {
        ast::Expression::Select { selector, variants } => {
            inline_vars(selector, vars);
            for v in variants {
                pattern_vars(&v.value, vars);
            }
        }
        ast::Expression::Inline(i) => inline_vars(i, vars),
    }
}

fn inline_vars(i: &ast::InlineExpression<&str>, vars: &mut BTreeSet<String>) {
    match i {
        ast::InlineExpression::VariableReference { id } => {
            vars.insert(id.name.to_string());
        }
        ast::InlineExpression::FunctionReference { arguments, .. } => {
            for a in &arguments.positional {
                inline_vars(a, vars);
            }
        }
        ast::InlineExpression::Placeable { expression } => expression_vars(expression, vars),
        _ => {}
    }
}

#[test]
fn both_languages_have_the_same_messages_attributes_and_variables() {
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for (file, en, es) in RESOURCES {
        let en = shape(file, "en", en);
        let es = shape(file, "es", es);
        for id in en.keys() {
            if !seen.insert(id.clone()) {
                problems.push(format!("{id} is defined in more than one file"));
            }
        }
        for (id, (attrs, vars)) in &en {
            match es.get(id) {
                None => problems.push(format!("{file}: {id} exists in English, not in Spanish")),
                Some((es_attrs, es_vars)) => {
                    if attrs != es_attrs {
                        problems.push(format!(
                            "{file}: {id} has attributes {attrs:?} in English, {es_attrs:?} in Spanish"
                        ));
                    }
                    if vars != es_vars {
                        problems.push(format!(
                            "{file}: {id} uses {vars:?} in English, {es_vars:?} in Spanish"
                        ));
                    }
                }
            }
        }
        for id in es.keys().filter(|id| !en.contains_key(*id)) {
            problems.push(format!("{file}: {id} exists in Spanish, not in English"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every `t!("id" ...)` and `text("id" ...)` in the sources, with the file it is in.
fn named_in_code() -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("the source tree is readable") {
            let path = entry.expect("the source tree is readable").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            // The localisation module names messages only in its docs and tests.
            if path.components().any(|c| c.as_os_str() == "i18n") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("a source file is readable");
            for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for marker in [
                    "t!(\"",
                    "i18n::text(\"",
                    "text_in(v.lang, \"",
                    "text_in(lang, \"",
                ] {
                    for (at, _) in line.match_indices(marker) {
                        // `t!(` but not `format!(` or `print!(`.
                        let before = line[..at].chars().next_back();
                        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                            continue;
                        }
                        let rest = &line[at + marker.len()..];
                        let Some(end) = rest.find('"') else { continue };
                        let id = &rest[..end];
                        if id.is_empty()
                            || !id
                                .chars()
                                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                        {
                            continue;
                        }
                        out.push((id.to_string(), path.display().to_string()));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn every_message_the_code_names_exists_in_english() {
    let mut known = BTreeSet::new();
    for (file, en, _) in RESOURCES {
        for (id, (attrs, _)) in shape(file, "en", en) {
            for a in &attrs {
                known.insert(format!("{id}.{a}"));
            }
            known.insert(id);
        }
    }
    let named = named_in_code();
    assert!(
        named.len() > 10,
        "the scan found the messages the code names"
    );
    let missing: Vec<String> = named
        .into_iter()
        .filter(|(id, _)| !known.contains(id))
        .map(|(id, file)| format!("{id} (named in {file})"))
        .collect();
    assert!(
        missing.is_empty(),
        "no such message: {}",
        missing.join(", ")
    );
}

#[test]
fn the_environment_picks_the_language_in_posix_order() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    };
    assert_eq!(Lang::from_vars(env(&[])), Lang::En);
    assert_eq!(Lang::from_vars(env(&[("LANG", "es_MX.UTF-8")])), Lang::Es);
    assert_eq!(Lang::from_vars(env(&[("LANG", "C")])), Lang::En);
    assert_eq!(Lang::from_vars(env(&[("LANG", "fr_FR.UTF-8")])), Lang::En);
    assert_eq!(
        Lang::from_vars(env(&[("LANG", "en_US.UTF-8"), ("LC_MESSAGES", "es_ES")])),
        Lang::Es
    );
    assert_eq!(
        Lang::from_vars(env(&[("LC_ALL", "en_GB"), ("LC_MESSAGES", "es_ES")])),
        Lang::En
    );
    // An empty variable does not decide.
    assert_eq!(
        Lang::from_vars(env(&[("LC_ALL", ""), ("LANG", "es")])),
        Lang::Es
    );
}

#[test]
fn the_browser_header_picks_the_language_by_weight() {
    assert_eq!(
        Lang::from_accept_language("es-MX,es;q=0.9,en;q=0.8"),
        Lang::Es
    );
    assert_eq!(
        Lang::from_accept_language("en-US,en;q=0.9,es;q=0.8"),
        Lang::En
    );
    assert_eq!(Lang::from_accept_language("fr-FR,fr;q=0.9"), Lang::En);
    assert_eq!(Lang::from_accept_language("fr;q=0.9,es;q=0.5"), Lang::Es);
    assert_eq!(Lang::from_accept_language(""), Lang::En);
    assert_eq!(Lang::from_accept_language(";;;q=x,,"), Lang::En);
}

#[test]
fn a_scoped_language_applies_on_its_thread_and_is_restored() {
    let before = current();
    scoped(Lang::Es, || {
        assert_eq!(current(), Lang::Es);
        scoped(Lang::En, || assert_eq!(current(), Lang::En));
        assert_eq!(current(), Lang::Es);
    });
    assert_eq!(current(), before);
}

#[test]
fn a_message_formats_with_its_arguments_in_each_language() {
    let en = text_in(
        Lang::En,
        "web-ago",
        &[("count", 5.into()), ("unit", "h".into())],
    );
    let es = text_in(
        Lang::Es,
        "web-ago",
        &[("count", 5.into()), ("unit", "h".into())],
    );
    assert_eq!(en, "5 h ago");
    assert_eq!(es, "hace 5 h");
    assert_eq!(text_in(Lang::En, "no-such-message", &[]), "no-such-message");
}
