//! The CEL values a rule sees: `user` and `group`, read straight from the directory's records.
//!
//! Fields are looked up when an expression reads them and borrow the record's strings, so a
//! rule costs no copy of a user. Neither value can be iterated (`user.map(k, k)` is an error
//! for every user): CEL maps iterate in no particular order, and a plan must not depend on one.

use cel::ExecutionError;
use cel::common::traits::Indexer;
use cel::common::types::{CelBool, CelList, CelString, Type};
use cel::common::value::{CowVal, Val};
use cel::context::VariableResolver;

use crate::model::{DirectoryGroup, DirectoryUser};

/// The fields every `user` has, whatever the source read. An attribute of the same name is
/// hidden by the field.
pub(crate) const USER_FIELDS: [&str; 6] =
    ["id", "email", "given_name", "surname", "enabled", "groups"];
/// The fields of `group`.
pub(crate) const GROUP_FIELDS: [&str; 2] = ["id", "name"];

static USER_TYPE: Type = Type::new_unspecified_type("teamsync.User");
static GROUP_TYPE: Type = Type::new_unspecified_type("teamsync.Group");

/// `user`: a directory user, with the names of every group it is in through nesting.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UserVal<'v> {
    pub(crate) user: &'v DirectoryUser,
    /// Sorted names of the user's groups (direct and through nesting).
    pub(crate) groups: &'v [&'v str],
}

/// `group`: a directory group.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GroupVal<'v> {
    pub(crate) group: &'v DirectoryGroup,
}

fn field_name(key: &dyn Val) -> Result<&str, ExecutionError> {
    key.downcast_ref::<CelString<'_>>()
        .map(|s| s.inner())
        .ok_or_else(|| ExecutionError::UnexpectedType {
            got: key.get_type().name().to_owned(),
            want: "string".to_owned(),
        })
}

fn string<'b, 'w>(s: &'w str) -> CowVal<'b, 'w> {
    CowVal::owned(CelString::from(s))
}

impl<'v> UserVal<'v> {
    /// `user.<name>`: a field, else the attribute of that name.
    fn field<'b, 'w>(&self, name: &str) -> Result<CowVal<'b, 'w>, ExecutionError>
    where
        'v: 'w,
    {
        let u = self.user;
        Ok(match name {
            "id" => string(u.id.as_str()),
            "email" => string(&u.email),
            "given_name" => string(&u.given_name),
            "surname" => string(&u.surname),
            "enabled" => CowVal::owned(CelBool::from(u.enabled)),
            "groups" => {
                let names: Vec<Box<dyn Val + 'w>> = self
                    .groups
                    .iter()
                    .map(|&g| Box::new(CelString::from(g)) as Box<dyn Val + 'w>)
                    .collect();
                CowVal::owned(CelList::from(names))
            }
            other => match u.attributes.get(other) {
                Some(value) => string(value),
                None => return Err(ExecutionError::no_such_key(other)),
            },
        })
    }
}

/// Resolves `user` and `user.<field>` for CEL without a lookup of the qualified name among the
/// context's variables: CEL looks a dotted name up whole first (`user.department`, then
/// `user`), which would cost a string join and failed lookups per field read. Anything it does
/// not find here (another name, a missing attribute) goes the usual way, so results and errors
/// are the same.
pub(crate) struct UserResolver<'v> {
    pub(crate) user: UserVal<'v>,
}

impl VariableResolver for UserResolver<'_> {
    fn resolve<'b>(&'b self, variable: &str) -> Option<CowVal<'b, 'b>> {
        if variable == "user" {
            return Some(CowVal::Borrowed(&self.user));
        }
        let field = variable.strip_prefix("user.")?;
        if field.contains('.') {
            return None;
        }
        self.user.field(field).ok()
    }
}

impl<'v> Indexer for UserVal<'v> {
    fn get<'b, 'w>(&'b self, key: &dyn Val) -> Result<CowVal<'b, 'w>, ExecutionError>
    where
        Self: 'w,
    {
        self.field(field_name(key)?)
    }

    fn steal<'w>(self: Box<Self>, key: &dyn Val) -> Result<Box<dyn Val + 'w>, ExecutionError>
    where
        Self: 'w,
    {
        self.get(key).map(CowVal::into_owned)
    }
}

/// The `Val` side of a record a rule reads by field (`user.mail`, `group.name`): an indexer of
/// its own CEL type, compared by nothing (two records are one only when they are the same
/// record, which no rule needs).
macro_rules! record_val {
    ($record:ident, $cel_type:ident) => {
        impl<'v> Val for $record<'v> {
            fn get_type(&self) -> &Type {
                &$cel_type
            }

            fn cel_type() -> &'static Type {
                &$cel_type
            }

            fn as_indexer<'b, 'w>(&'b self) -> Option<&'b (dyn Indexer + 'w)>
            where
                Self: 'w,
            {
                Some(self)
            }

            fn into_indexer<'w>(self: Box<Self>) -> Option<Box<dyn Indexer + 'w>>
            where
                Self: 'w,
            {
                Some(self)
            }

            fn equals(&self, _other: &dyn Val) -> bool {
                false
            }

            fn clone_as_boxed<'w>(&self) -> Box<dyn Val + 'w>
            where
                Self: 'w,
            {
                Box::new(*self)
            }
        }
    };
}

record_val!(UserVal, USER_TYPE);

impl<'v> Indexer for GroupVal<'v> {
    fn get<'b, 'w>(&'b self, key: &dyn Val) -> Result<CowVal<'b, 'w>, ExecutionError>
    where
        Self: 'w,
    {
        let g = self.group;
        match field_name(key)? {
            "id" => Ok(string(g.id.as_str())),
            "name" => Ok(string(&g.name)),
            other => Err(ExecutionError::no_such_key(other)),
        }
    }

    fn steal<'w>(self: Box<Self>, key: &dyn Val) -> Result<Box<dyn Val + 'w>, ExecutionError>
    where
        Self: 'w,
    {
        self.get(key).map(CowVal::into_owned)
    }
}

record_val!(GroupVal, GROUP_TYPE);
