//! The page format's tests: round trips, names, damaged pages, views.

use crate::model::*;

use super::*;

fn sample() -> Vec<CsEntryChange> {
    let mut a = CsEntryChange::new("User", ObjectModification::Add).with_anchor("id", 7i64);
    a.dn = "7".into();
    a.identifier = "7".into();
    a.changes.push(AttributeChange::add(
        "name",
        [Value::String("Zoë '; --".into())],
    ));
    a.changes.push(AttributeChange::add(
        "member",
        [
            Value::Reference("cn=a".into()),
            Value::Reference("cn=b".into()),
        ],
    ));
    a.changes.push(AttributeChange::add(
        "photo",
        [Value::Binary(vec![0, 255, 1])],
    ));
    a.changes
        .push(AttributeChange::add("active", [Value::Boolean(true)]));
    a.changes.push(AttributeChange {
        name: "mail".into(),
        modification: AttributeModification::Update,
        values: vec![
            ValueChange::delete(Value::String("old@x".into())),
            ValueChange::add(Value::String("new@x".into())),
        ],
    });
    a.changes.push(AttributeChange {
        name: "empty".into(),
        modification: AttributeModification::Delete,
        values: vec![],
    });
    let mut b = CsEntryChange::new("Group", ObjectModification::Delete)
        .with_anchor("guid", Value::Binary(vec![9; 16]))
        .with_anchor("n", i64::MIN);
    b.error = Some(EntryError {
        code: ImportErrorCode::MissingAnchor,
        name: "MissingAnchor".into(),
        detail: "x".repeat(70_000),
    });
    let c = CsEntryChange::new("", ObjectModification::None);
    vec![a, b, c]
}

/// Where the name table of a written page starts.
fn names_at(bytes: &[u8]) -> usize {
    u32::from_le_bytes(bytes[bytes.len() - 4..].try_into().unwrap()) as usize
}

#[test]
fn names_are_written_once_per_page_and_ids_name_them() {
    let mut page = PageWriter::new();
    let user = page.name("User");
    let mail = page.name("mail");
    assert_eq!(page.name("mail"), mail);
    for i in 0..100i64 {
        let dn = format!("uid={i}");
        let mut e = page.entry(user, ObjectModification::Add, &dn, &dn);
        e.add(mail, ValueRef::String("m@x"));
        // Past the scanned names: the table's map finds them.
        for k in 0..40 {
            e.add(format!("attr{k}").as_str(), ValueRef::Integer(k));
        }
    }
    page.entry("Group", ObjectModification::Add, "cn=g", "g-1")
        .anchor("guid", ValueRef::Binary(&[1, 2]));
    let (bytes, n) = page.into_parts();
    // Each name once: 43 names, not 100 × 41.
    assert_eq!(
        bytes.windows(6).filter(|w| w == b"attr39").count(),
        1,
        "a name written more than once"
    );
    let packed = PackedPage::new(bytes, n);
    let views: Vec<_> = packed.entries().map(Result::unwrap).collect();
    assert_eq!(views.len(), 101);
    assert_eq!(views[7].object_type, "User");
    assert_eq!(views[7].identifier, "uid=7");
    let names: Vec<_> = views[7].changes().map(|c| c.name).collect();
    assert_eq!(names[0], "mail");
    assert_eq!(names[40], "attr39");
    assert_eq!(
        views[7]
            .change("attr12")
            .unwrap()
            .values()
            .collect::<Vec<_>>(),
        [(ValueModification::Add, ValueRef::Integer(12))]
    );
    let group = &views[100];
    assert_eq!(
        (group.object_type, group.dn, group.identifier),
        ("Group", "cn=g", "g-1")
    );
    assert_eq!(
        group.anchors().collect::<Vec<_>>(),
        [("guid", ValueRef::Binary(&[1, 2]))]
    );
}

#[test]
fn a_name_id_past_the_table_is_refused() {
    let mut page = PageWriter::new();
    page.entry("User", ObjectModification::Add, "d", "d")
        .add("a", ValueRef::Integer(1));
    let (mut bytes, n) = page.into_parts();
    // The record's name id (after tag): the entry is mod, flags, type, dn (4 + 1), tag.
    let at = 1 + 2 + 4 + 5 + 1;
    assert_eq!(&bytes[at..at + 4], &1u32.to_le_bytes());
    bytes[at] = 9;
    assert_eq!(
        decode_page(&bytes, n),
        Err(PageError::Name { entry: 0, name: 9 })
    );
    // A name table that points outside the page.
    let len = bytes.len();
    bytes[len - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(decode_page(&bytes, n), Err(PageError::NameTable));
}

#[test]
fn a_name_id_from_another_page_fails_the_page_with_an_error_not_a_panic() {
    let mut other = PageWriter::new();
    other.name("a");
    let id = other.name("b");
    let mut page = PageWriter::new();
    // Index 0 exists in this page too: only the page it came from tells them apart.
    page.name("mail");
    page.entry("User", ObjectModification::Add, "d", "d")
        .add(id, ValueRef::Integer(1));
    let err = page.check().unwrap_err();
    assert_eq!(err.kind, ErrorKind::Internal);
    assert!(
        err.message.contains("NameId from another page"),
        "{}",
        err.message
    );
    // The bytes stay a readable page (the SDK refuses it anyway).
    let (bytes, n) = page.into_parts();
    assert_eq!(decode_page(&bytes, n).unwrap().len(), 1);
    // Its own ids are fine.
    let mut own = PageWriter::new();
    let mail = own.name("mail");
    own.entry("User", ObjectModification::Add, "d", "d")
        .add(mail, ValueRef::Integer(1));
    assert_eq!(own.check(), Ok(()));
}

#[test]
fn every_field_survives_the_round_trip() {
    let entries = sample();
    let mut page = PageWriter::new();
    for e in &entries {
        page.push(e);
    }
    assert_eq!(page.len(), 3);
    let (bytes, n) = page.into_parts();
    assert_eq!(decode_page(&bytes, n).unwrap(), entries);
}

#[test]
fn an_empty_page_decodes_to_no_entries() {
    let (bytes, n) = PageWriter::new().into_parts();
    assert_eq!(decode_page(&bytes, n).unwrap(), vec![]);
}

#[test]
fn a_damaged_page_is_an_error_never_a_panic() {
    let mut page = PageWriter::new();
    for e in &sample() {
        page.push(e);
    }
    let (bytes, n) = page.into_parts();
    // Every truncation, and every single-byte corruption, decodes to Ok or Err.
    for cut in 0..bytes.len() {
        let r = decode_page(&bytes[..cut], n);
        assert!(r.is_err(), "truncated at {cut} decoded");
    }
    for i in 0..bytes.len().min(400) {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut damaged = bytes.clone();
            damaged[i] ^= flip;
            let _ = decode_page(&damaged, n);
        }
    }
    assert_eq!(
        decode_page(&bytes, n + 1),
        Err(PageError::Count {
            found: 3,
            announced: 4
        })
    );
    assert_eq!(decode_page(&[9], 0), Err(PageError::Format(9)));
    let mut bad_utf8 = PageWriter::new();
    bad_utf8.entry("User", ObjectModification::Add, "x", "x");
    let (mut bytes, n) = bad_utf8.into_parts();
    // The last byte of the dn "x", before the entry's end marker and the name table.
    let at = names_at(&bytes) - 2;
    bytes[at] = 0xff;
    assert_eq!(decode_page(&bytes, n), Err(PageError::Utf8 { entry: 0 }));
}

#[test]
fn views_read_the_same_entries_in_place() {
    let entries = sample();
    let mut page = PageWriter::new();
    for e in &entries {
        page.push(e);
    }
    // Records in another order than `push` writes them: an anchor after a change, and
    // an error between changes.
    page.entry("User", ObjectModification::Update, "u", "u")
        .add("mail", ValueRef::String("m@x"))
        .anchor("id", ValueRef::Integer(3))
        .error(ImportErrorCode::ParseError, "Parse", "bad")
        .change(
            "member",
            AttributeModification::Update,
            [
                (ValueModification::Delete, ValueRef::Reference("cn=old")),
                (ValueModification::Add, ValueRef::Reference("cn=new")),
            ],
        );
    let (bytes, n) = page.into_parts();
    let packed = PackedPage::new(bytes, n);
    let views: Vec<EntryView<'_>> = packed.entries().map(Result::unwrap).collect();
    assert_eq!(views.len(), 4);
    for (view, owned) in views.iter().zip(&entries) {
        assert_eq!(&view.to_owned(), owned);
    }
    let a = &views[0];
    assert_eq!(
        a.anchors().collect::<Vec<_>>(),
        [("id", ValueRef::Integer(7))]
    );
    let member = a.change("MEMBER").unwrap();
    assert_eq!(
        member.added_values().collect::<Vec<_>>(),
        [ValueRef::Reference("cn=a"), ValueRef::Reference("cn=b")]
    );
    let mail = a.change("mail").unwrap();
    assert_eq!(
        mail.deleted_values().collect::<Vec<_>>(),
        [ValueRef::String("old@x")]
    );
    assert!(a.change("nope").is_none());
    assert_eq!(
        views[1].error().unwrap().code,
        ImportErrorCode::MissingAnchor
    );
    assert_eq!(views[1].anchors().count(), 2);
    let late = &views[3];
    assert_eq!(
        late.anchors().collect::<Vec<_>>(),
        [("id", ValueRef::Integer(3))]
    );
    assert_eq!(
        late.changes().map(|c| c.name).collect::<Vec<_>>(),
        ["mail", "member"]
    );
    assert_eq!(late.error().unwrap().detail, "bad");
    assert_eq!(late.change("member").unwrap().values().count(), 2);
    // A damaged entry ends the iteration with its error, after the good ones.
    let (mut bytes, n) = {
        let mut page = PageWriter::new();
        page.push(&entries[0]);
        page.push(&entries[0]);
        page.into_parts()
    };
    let last = names_at(&bytes) - 1;
    bytes[last] = 77; // the second entry's end marker
    let packed = PackedPage::new(bytes, n);
    let read: Vec<_> = packed.entries().collect();
    assert_eq!(read.len(), 2);
    assert!(read[0].is_ok());
    assert_eq!(
        read[1].as_ref().unwrap_err(),
        &PageError::Tag { entry: 1, tag: 77 }
    );
}

#[test]
fn unknown_enumeration_values_decode_to_safe_defaults() {
    let mut page = PageWriter::new();
    page.entry("User", ObjectModification::Add, "d", "i")
        .add("a", ValueRef::Integer(1));
    let (mut bytes, n) = page.into_parts();
    bytes[1] = 200; // object modification
    let e = &decode_page(&bytes, n).unwrap()[0];
    assert_eq!(e.modification, ObjectModification::None);
}
