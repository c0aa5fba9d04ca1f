//! Every sentence people read, in English and Spanish, from one set of Fluent message files.
//!
//! The message files are `cli/locales/<lang>/<area>.ftl`, one per area of the program, compiled
//! into the binary. Code never holds the words: it names a message and its arguments with
//! [`t!`](crate::t), and the current language's bundle formats it.
//!
//! Which language is current:
//! - the command line follows `LC_ALL`, then `LC_MESSAGES`, then `LANG` ([`Lang::from_env`]),
//!   set once at start ([`set_default`]);
//! - a command served by a running node speaks the language of the client that asked (its
//!   request carries it), and the web page speaks the language of the browser or of the
//!   switch on the page: both run the command inside [`scoped`], which overrides the default
//!   on that thread for the duration.
//!
//! Invariant: both languages have the same messages with the same attributes and the same
//! variables (the tests in `tests.rs` fail otherwise, and also when code names a message the
//! English files lack). A message that is somehow missing at run time prints its name rather
//! than nothing.
//!
//! Deliberately absent: clap's own help texts and usage errors stay in English (they come from
//! the argument definitions), except a flag's value that the record library refused (a county,
//! a term, a duration), which [`crate::messages::clap_value`] words in the current language;
//! the libraries' errors are turned into sentences in [`crate::messages`], and the few that
//! have no sentence of their own print their English description.

use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

#[cfg(test)]
mod tests;

/// A language puente speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Spanish.
    Es,
}

impl Lang {
    /// Every language, in the order the page's switch lists them.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Es];

    /// The language's tag (`en`, `es`), as in the message files' folders and HTML's `lang`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
        }
    }

    /// The language named by `tag` (`es`, `es-MX`, `es_ES.UTF-8`, `EN` ...), if puente speaks it.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag
            .split(['-', '_', '.', '@'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.tag() == primary)
    }

    /// The language of the environment: the first of `LC_ALL`, `LC_MESSAGES` and `LANG` that
    /// is set and not empty decides (as POSIX orders them); a language puente does not speak,
    /// `C` or `POSIX` means English.
    pub fn from_env() -> Lang {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// [`Lang::from_env`] over `get` instead of the process's environment.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Lang {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .into_iter()
            .filter_map(get)
            .find(|v| !v.trim().is_empty())
            .and_then(|v| Lang::from_tag(v.trim()))
            .unwrap_or_default()
    }

    /// The language a browser's `Accept-Language` header prefers among those puente speaks
    /// (negotiated by fluent-langneg, weights honoured), or English.
    pub fn from_accept_language(header: &str) -> Lang {
        let requested = fluent_langneg::accepted_languages::parse(header);
        let available: Vec<LanguageIdentifier> = Lang::ALL.iter().map(|l| l.id()).collect();
        let default = Lang::En.id();
        let chosen = fluent_langneg::negotiate_languages(
            &requested,
            &available,
            Some(&default),
            fluent_langneg::NegotiationStrategy::Lookup,
        );
        chosen
            .first()
            .and_then(|id| Lang::from_tag(id.language.as_str()))
            .unwrap_or_default()
    }

    fn id(self) -> LanguageIdentifier {
        self.tag()
            .parse()
            .expect("the language tags are valid BCP 47 tags")
    }
}

/// The message files, per area: name, English text, Spanish text.
pub const RESOURCES: &[(&str, &str, &str)] = &[
    (
        "errors",
        include_str!("../../locales/en/errors.ftl"),
        include_str!("../../locales/es/errors.ftl"),
    ),
    (
        "commands",
        include_str!("../../locales/en/commands.ftl"),
        include_str!("../../locales/es/commands.ftl"),
    ),
    (
        "rows",
        include_str!("../../locales/en/rows.ftl"),
        include_str!("../../locales/es/rows.ftl"),
    ),
    (
        "web",
        include_str!("../../locales/en/web.ftl"),
        include_str!("../../locales/es/web.ftl"),
    ),
    (
        "admin",
        include_str!("../../locales/en/admin.ftl"),
        include_str!("../../locales/es/admin.ftl"),
    ),
];

/// One language's messages, ready to format.
struct Bundle(FluentBundle<FluentResource>);

impl std::fmt::Debug for Bundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Bundle")
    }
}

fn bundle(lang: Lang) -> &'static Bundle {
    static BUNDLES: OnceLock<[Bundle; 2]> = OnceLock::new();
    let all = BUNDLES.get_or_init(|| Lang::ALL.map(build));
    match lang {
        Lang::En => &all[0],
        Lang::Es => &all[1],
    }
}

fn build(lang: Lang) -> Bundle {
    let mut bundle = FluentBundle::new_concurrent(vec![lang.id()]);
    // Terminals and CSV cells show the Unicode isolation marks as stray characters; every
    // argument here is a left-to-right word or number anyway.
    bundle.set_use_isolating(false);
    for (name, en, es) in RESOURCES {
        let text = match lang {
            Lang::En => en,
            Lang::Es => es,
        };
        // A file that does not parse keeps what did (and the tests fail on it).
        let resource = FluentResource::try_new(text.to_string()).unwrap_or_else(|(r, errs)| {
            tracing::debug!(file = name, errors = errs.len(), "message file has errors");
            r
        });
        if let Err(errs) = bundle.add_resource(resource) {
            tracing::debug!(
                file = name,
                errors = errs.len(),
                "message file repeats messages"
            );
        }
    }
    Bundle(bundle)
}

static DEFAULT: AtomicU8 = AtomicU8::new(0);

thread_local! {
    static SCOPED: Cell<Option<Lang>> = const { Cell::new(None) };
}

/// Sets the language of this process (the command line calls this once, from the environment).
pub fn set_default(lang: Lang) {
    DEFAULT.store(lang as u8, Ordering::Relaxed);
}

/// The language sentences are written in on this thread now.
pub fn current() -> Lang {
    SCOPED.with(Cell::get).unwrap_or_else(|| {
        if DEFAULT.load(Ordering::Relaxed) == Lang::Es as u8 {
            Lang::Es
        } else {
            Lang::En
        }
    })
}

/// Runs `f` with `lang` as this thread's language, then restores what was there (also when
/// `f` panics).
pub fn scoped<R>(lang: Lang, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Lang>);
    impl Drop for Restore {
        fn drop(&mut self) {
            SCOPED.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(SCOPED.with(|c| c.replace(Some(lang))));
    f()
}

/// The message `id` in `lang`, with `args`; its name when it does not exist.
pub fn text_in(lang: Lang, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
    let Bundle(bundle) = bundle(lang);
    let (name, attribute) = match id.split_once('.') {
        Some((name, attr)) => (name, Some(attr)),
        None => (id, None),
    };
    let Some(message) = bundle.get_message(name) else {
        tracing::debug!(id, "no such message");
        return id.to_string();
    };
    let pattern = match attribute {
        Some(attr) => message.get_attribute(attr).map(|a| a.value()),
        None => message.value(),
    };
    let Some(pattern) = pattern else {
        return id.to_string();
    };
    let mut fluent_args = FluentArgs::new();
    for (name, value) in args {
        fluent_args.set(*name, value.clone());
    }
    let mut errors = Vec::new();
    let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
    if !errors.is_empty() {
        tracing::debug!(id, errors = errors.len(), "message formatted with errors");
    }
    text.into_owned()
}

/// The message `id` in the current language, with `args`.
pub fn text(id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
    text_in(current(), id, args)
}

/// A message in the current language: `t!("offer-published")`, or with arguments,
/// `t!("offer-published", handle = h, count = n)`. An argument is anything Fluent takes as a
/// value (`&str`, `String`, integers); pass other values as their `to_string()`.
#[macro_export]
macro_rules! t {
    ($id:literal) => {
        $crate::i18n::text($id, &[])
    };
    ($id:literal, $($name:ident = $value:expr),+ $(,)?) => {
        $crate::i18n::text(
            $id,
            &[$((stringify!($name), ::fluent_bundle::FluentValue::from($value))),+],
        )
    };
}
