//! A [`DesiredState`] document as JSON: the core's own model, for exports written by tools.

use std::collections::BTreeSet;

use teamsync_core::{DesiredState, SourceId};

use super::{SourceError, source_id};

/// A [`DesiredState`] document; `user_roots`/`group_roots` (ids), when not empty, replace the
/// file's own.
pub(crate) fn desired_from_state_json(
    text: &str,
    user_roots: &[String],
    group_roots: &[String],
) -> Result<DesiredState, SourceError> {
    let mut state: DesiredState =
        serde_json::from_str(text).map_err(|e| SourceError::Json(e.to_string()))?;
    let known: BTreeSet<&SourceId> = state.groups.iter().map(|g| &g.id).collect();
    let resolve = |names: &[String]| -> Result<Vec<SourceId>, SourceError> {
        names
            .iter()
            .map(|n| {
                let id = source_id(n, "root id")?;
                if known.contains(&id) {
                    Ok(id)
                } else {
                    Err(SourceError::RootNotFound(n.clone()))
                }
            })
            .collect()
    };
    let user = if user_roots.is_empty() {
        None
    } else {
        Some(resolve(user_roots)?)
    };
    let group = if group_roots.is_empty() {
        None
    } else {
        Some(resolve(group_roots)?)
    };
    if let Some(roots) = user {
        state.user_roots = roots;
    }
    if let Some(roots) = group {
        state.group_roots = roots;
    }
    Ok(state)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn state_json_roots_override() {
        let text = r#"{"user_roots":["g1"],"groups":[{"id":"g1","name":"A"},{"id":"g2","name":"B"}],"users":[]}"#;
        assert_eq!(
            desired_from_state_json(text, &[], &[]).unwrap().user_roots,
            vec![SourceId::new("g1").unwrap()]
        );
        assert_eq!(
            desired_from_state_json(text, &["g2".into()], &[])
                .unwrap()
                .user_roots,
            vec![SourceId::new("g2").unwrap()]
        );
        assert!(matches!(
            desired_from_state_json(text, &["g3".into()], &[]),
            Err(SourceError::RootNotFound(_))
        ));
    }
}
