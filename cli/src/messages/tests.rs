//! The sentences typed errors become, in English (as puente has always printed them) and in
//! Spanish.

use std::path::Path;

use puente_node::envelope::NetworkId;
use puente_node::invite::JoinRefusal;
use puente_node::joiner::JoinError;
use puente_node::replica::{
    BundleRefusal, NetworkRefusal, RecordKind, RelayRefusal, ReplicaError, RoleRefusal,
    WriteRefusal,
};
use puente_node::store::StoreError;

use crate::i18n::{self, Lang};
use crate::messages;

fn sentence(e: impl Into<ReplicaError>) -> String {
    messages::replica(&e.into(), Path::new("/data"))
}

fn en<R>(f: impl FnOnce() -> R) -> R {
    i18n::scoped(Lang::En, f)
}

fn es<R>(f: impl FnOnce() -> R) -> R {
    i18n::scoped(Lang::Es, f)
}

#[test]
fn refusals_read_as_the_sentences_puente_has_always_printed() {
    en(|| {
        assert_eq!(
            sentence(WriteRefusal::DevicePending),
            "this device has not joined its organisation yet: on a computer of your organisation run `puente device add`, then here `puente join TOKEN`"
        );
        assert_eq!(
            sentence(ReplicaError::NotFound {
                what: RecordKind::Hold,
                text: "zzzz".into()
            }),
            "no hold matches `zzzz`; list holds with `puente hold list`"
        );
        assert_eq!(
            sentence(NetworkRefusal::InvitationNotFound {
                text: "abcd".into(),
                matches: 0
            }),
            "no invitation matches `abcd`; see `puente invite list`"
        );
        assert_eq!(
            sentence(NetworkRefusal::InvitationNotFound {
                text: "ab".into(),
                matches: 2
            }),
            "no single invitation matches `ab`; see `puente invite list`"
        );
        assert_eq!(
            sentence(NetworkRefusal::AlreadyInNetwork {
                network: NetworkId::from_bytes([0; 16])
            }),
            format!(
                "this node is already part of network {}; a node belongs to one network",
                NetworkId::from_bytes([0; 16])
            )
        );
        assert_eq!(
            sentence(BundleRefusal::Malformed { what: "slot count" }),
            "the bundle is malformed (slot count); nothing was imported"
        );
        assert_eq!(
            sentence(BundleRefusal::ImportTooLarge {
                len: 5_000_000,
                max: 4_194_304
            }),
            "the bundle is 5000000 bytes, more than the 4194304-byte limit; nothing was imported"
        );
        assert_eq!(
            sentence(RoleRefusal::NotAccepted),
            "the membership log did not accept the role change; check `puente audit log`"
        );
        assert_eq!(
            messages::join(&JoinError::Refused(JoinRefusal::Used), Path::new("/data")),
            "the inviter refused: this invitation has already been used; ask for a new one"
        );
        assert_eq!(
            sentence(StoreError::WrongPassphrase),
            "wrong passphrase for the store in /data (or its header was altered); check PUENTE_PASSPHRASE or --passphrase-file and try again"
        );
    });
}

#[test]
fn counts_choose_the_plural_and_kinds_choose_the_noun() {
    let ambiguous = |what, count| {
        sentence(ReplicaError::Ambiguous {
            what,
            text: "3f".into(),
            count,
        })
    };
    en(|| {
        assert_eq!(
            ambiguous(RecordKind::Offer, 2),
            "`3f` matches 2 offers; type more of the id"
        );
        assert_eq!(
            ambiguous(RecordKind::Window, 3),
            "`3f` matches 3 windows; type more of the id"
        );
        assert_eq!(
            messages::join(&JoinError::NotConfirmed(1), Path::new("/data")),
            "the inviter did not confirm within 1 minute; ask them to run `puente invite confirm`, then join again"
        );
        assert_eq!(
            messages::join(&JoinError::NotConfirmed(10), Path::new("/data")),
            "the inviter did not confirm within 10 minutes; ask them to run `puente invite confirm`, then join again"
        );
        assert_eq!(
            sentence(ReplicaError::Damaged("epoch key")),
            "stored epoch key record is damaged; restore the data directory from a backup"
        );
        assert_eq!(
            sentence(ReplicaError::Damaged("log")),
            "stored log record is damaged; restore the data directory from a backup"
        );
    });
    es(|| {
        assert_eq!(
            ambiguous(RecordKind::Hold, 2),
            "`3f` coincide con 2 reservas; escriba más caracteres del id"
        );
        assert_eq!(
            messages::join(&JoinError::NotConfirmed(1), Path::new("/data")),
            "la organización que le invitó no confirmó en 1 minuto; pídale que ejecute `puente invite confirm`, y luego únase de nuevo"
        );
        assert_eq!(
            sentence(ReplicaError::Damaged("epoch key")),
            "el registro guardado de claves de la red está dañado; restaure el directorio de datos desde una copia de seguridad"
        );
    });
}

#[test]
fn spanish_keeps_commands_flags_and_ids_verbatim() {
    es(|| {
        assert_eq!(
            sentence(ReplicaError::NotFound {
                what: RecordKind::Offer,
                text: "zzzz".into()
            }),
            "ninguna oferta coincide con `zzzz`; vea las ofertas con `puente offer list` o `puente query`"
        );
        assert_eq!(
            sentence(StoreError::NotFound {
                dir: "/data".into()
            }),
            "no hay datos de puente en /data; primero ejecute `puente init --org NAME`, o indique con --data-dir dónde están sus datos"
        );
        assert_eq!(
            sentence(WriteRefusal::DevicePending),
            "este dispositivo todavía no se ha unido a su organización: en una computadora de su organización ejecute `puente device add`, y luego aquí `puente join TOKEN`"
        );
        assert_eq!(
            messages::join(&JoinError::Refused(JoinRefusal::Used), Path::new("/data")),
            "la organización que le invitó rechazó la solicitud: esta invitación ya se usó; pida una nueva"
        );
    });
}

#[test]
fn not_being_in_a_network_says_both_ways_in() {
    for lang in Lang::ALL {
        i18n::scoped(lang, || {
            for text in [
                sentence(NetworkRefusal::NotInNetwork),
                sentence(RelayRefusal::NotInNetwork),
                sentence(RoleRefusal::NotInNetwork),
            ] {
                assert!(
                    text.contains("`puente network create --name NAME`")
                        && text.contains("`puente join TOKEN`"),
                    "{text}"
                );
            }
        });
    }
}

#[test]
fn a_refusal_the_sentences_do_not_know_still_reads_as_its_own_words() {
    let refusal = JoinError::Refused(JoinRefusal::Other("a reason from a newer node".into()));
    en(|| {
        assert_eq!(
            messages::join(&refusal, Path::new("/data")),
            "the inviter refused: a reason from a newer node"
        );
    });
    es(|| {
        assert_eq!(
            messages::join(&refusal, Path::new("/data")),
            "la organización que le invitó rechazó la solicitud: a reason from a newer node"
        );
    });
}

#[test]
fn an_error_that_says_nothing_still_gets_a_line() {
    let empty = anyhow::anyhow!(" \n ");
    en(|| {
        assert_eq!(
            messages::one_line(&empty),
            "something went wrong; run again with RUST_LOG=debug for details"
        )
    });
    es(|| assert!(messages::one_line(&empty).contains("RUST_LOG=debug")));
}
