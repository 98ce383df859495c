//! The keys of a config type at run time: their serde names, doc comments and defaults, from
//! `#[derive(Documented)]` (crate `teamsync-docs-derive`).
//!
//! The doc comments rustdoc shows are the text `teamsync config explain` prints and
//! `teamsync init` writes as comments: one source for the Rust docs and the binary. The
//! defaults are the real ones: serialized from `Default` (a container's `#[serde(default)]`,
//! a field's `#[serde(default)]` or `#[serde(default = "path")]`), never a copied text.

pub use teamsync_docs_derive::Documented;

/// A type whose keys (struct) or values (enum) can be listed with their doc comments.
pub trait Documented {
    /// The type's doc comment and its keys or values.
    fn type_doc() -> TypeDoc;
}

/// What the entries of a [`TypeDoc`] are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Shape {
    /// A struct: each entry is a key of a table.
    Keys,
    /// An enum: each entry is a value the key takes.
    Values,
}

/// A documented type.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TypeDoc {
    /// The type's doc comment.
    pub doc: &'static str,
    /// Keys or values.
    pub shape: Shape,
    /// An internally tagged enum's tag key (`kind` of `[directory]`): each value is then a
    /// table with the tag and the value's own keys.
    pub tag: Option<&'static str>,
    /// In declaration order.
    pub entries: Vec<FieldDoc>,
}

impl TypeDoc {
    #[doc(hidden)]
    pub fn __new(
        doc: &'static str,
        shape: Shape,
        tag: Option<&'static str>,
        entries: Vec<FieldDoc>,
    ) -> TypeDoc {
        TypeDoc {
            doc,
            shape,
            tag,
            entries,
        }
    }

    /// The entry named `key`.
    pub fn entry(&self, key: &str) -> Option<&FieldDoc> {
        self.entries.iter().find(|e| e.key == key)
    }
}

/// One key of a struct or one value of an enum.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FieldDoc {
    /// The name the config file uses (serde's).
    pub key: &'static str,
    /// Its doc comment.
    pub doc: &'static str,
    /// Required, or its default.
    pub default: DefaultDoc,
    /// The keys or values nested under it, when its type (through `Option`, `Vec`, `Box`) is
    /// [`Documented`].
    pub nested: Option<fn() -> TypeDoc>,
}

impl FieldDoc {
    #[doc(hidden)]
    pub fn __new(
        key: &'static str,
        doc: &'static str,
        default: DefaultDoc,
        nested: Option<fn() -> TypeDoc>,
    ) -> FieldDoc {
        FieldDoc {
            key,
            doc,
            default,
            nested,
        }
    }
}

/// A key's default.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DefaultDoc {
    /// The key must be given.
    Required,
    /// Absent unless given (an `Option`): the doc comment says what absence means.
    NotSet,
    /// The default value, serialized.
    Value(serde_json::Value),
    /// There is a default, but its type cannot be serialized to show it.
    Unknown,
    /// An enum value, not a key.
    NotApplicable,
}

/// What the derive's generated code calls; not an API.
#[doc(hidden)]
pub mod __private {
    use std::marker::PhantomData;

    use super::{DefaultDoc, Documented, TypeDoc};

    /// Stands for a type `T`: method resolution picks the `Documented` or `Serialize` impl
    /// when `T` has one and the fallback on `&Probe<T>` otherwise.
    pub struct Probe<T: ?Sized>(PhantomData<T>);

    impl<T: ?Sized> Probe<T> {
        pub fn new() -> Self {
            Probe(PhantomData)
        }
    }

    impl<T: ?Sized> Default for Probe<T> {
        fn default() -> Self {
            Self::new()
        }
    }

    pub trait NestedDoc {
        fn nested_doc(&self) -> Option<fn() -> TypeDoc>;
    }
    impl<T: Documented> NestedDoc for Probe<T> {
        fn nested_doc(&self) -> Option<fn() -> TypeDoc> {
            Some(T::type_doc)
        }
    }
    pub trait NoNestedDoc {
        fn nested_doc(&self) -> Option<fn() -> TypeDoc>;
    }
    impl<T: ?Sized> NoNestedDoc for &Probe<T> {
        fn nested_doc(&self) -> Option<fn() -> TypeDoc> {
            None
        }
    }

    pub trait TypeDefault {
        fn type_default_doc(&self) -> DefaultDoc;
    }
    impl<T: Default + serde::Serialize> TypeDefault for Probe<T> {
        fn type_default_doc(&self) -> DefaultDoc {
            serialized(&T::default())
        }
    }
    pub trait NoTypeDefault {
        fn type_default_doc(&self) -> DefaultDoc;
    }
    impl<T: ?Sized> NoTypeDefault for &Probe<T> {
        fn type_default_doc(&self) -> DefaultDoc {
            DefaultDoc::Unknown
        }
    }

    /// Stands for a default value.
    pub struct ValueProbe<'a, T>(pub &'a T);

    pub trait ValueDefault {
        fn default_doc(&self) -> DefaultDoc;
    }
    impl<T: serde::Serialize> ValueDefault for ValueProbe<'_, T> {
        fn default_doc(&self) -> DefaultDoc {
            serialized(self.0)
        }
    }
    pub trait NoValueDefault {
        fn default_doc(&self) -> DefaultDoc;
    }
    impl<T> NoValueDefault for &ValueProbe<'_, T> {
        fn default_doc(&self) -> DefaultDoc {
            DefaultDoc::Unknown
        }
    }

    fn serialized<T: serde::Serialize + ?Sized>(value: &T) -> DefaultDoc {
        match serde_json::to_value(value) {
            Ok(serde_json::Value::Null) => DefaultDoc::NotSet,
            Ok(value) => DefaultDoc::Value(value),
            Err(_) => DefaultDoc::Unknown,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::{GroupLeave, GroupSync, InvitedDeprovision, LeaveAction, Limit, Policy};

    /// The names the derive lists are the ones serde reads.
    fn values_are_serde_names<T: Documented + serde::de::DeserializeOwned>() {
        let doc = T::type_doc();
        assert_eq!(doc.shape, Shape::Values);
        for value in &doc.entries {
            serde_json::from_value::<T>(serde_json::Value::String(value.key.into()))
                .unwrap_or_else(|e| panic!("{}: {e}", value.key));
            assert!(!value.doc.is_empty(), "{} has no doc", value.key);
        }
    }

    #[test]
    fn enum_values_are_what_serde_accepts() {
        values_are_serde_names::<LeaveAction>();
        values_are_serde_names::<InvitedDeprovision>();
        values_are_serde_names::<GroupSync>();
        values_are_serde_names::<GroupLeave>();
    }

    #[test]
    fn policy_keys_are_its_serialized_keys_with_real_defaults() {
        let doc = Policy::type_doc();
        let serde_json::Value::Object(serialized) =
            serde_json::to_value(Policy::default()).unwrap()
        else {
            panic!("a table")
        };
        for (key, value) in &serialized {
            let entry = doc.entry(key).unwrap_or_else(|| panic!("{key} not listed"));
            assert_eq!(entry.default, DefaultDoc::Value(value.clone()), "{key}");
            assert!(!entry.doc.is_empty(), "{key}");
        }
        // A nested table is listed with its own keys; a key without a default is required.
        let limit = doc.entry("max_deprovision").unwrap().nested.unwrap()();
        assert_eq!(limit.entry("floor").unwrap().default, DefaultDoc::Required);
        assert_eq!(Limit::type_doc().entries.len(), 2);
        // The tagged enum names its tag.
        let transfer = doc.entry("transfer").unwrap().nested.unwrap()();
        assert_eq!(transfer.tag, Some("mode"));
        assert!(transfer.entry("transfer").unwrap().nested.is_some());
    }
}
